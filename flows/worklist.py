"""The coordinator's worklist across domains: the alerts and notices of
:mod:`alerts.worklist`, with the transitional-care deadlines of the programmes
(:func:`flows.tcm_clocks.tcm_deadlines`), ranked by :mod:`alerts.priority`.

The API and the benchmark call this, not :mod:`alerts.worklist` directly, so
that both rank with the deadlines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from alerts import worklist
from alerts.priority import Deadline
from alerts.worklist import HIGH_RISK_FRACTION, Worklist
from flows.tcm_clocks import tcm_deadlines
from hub.db import Conn

__all__ = ["HIGH_RISK_FRACTION", "Worklist", "build_worklist"]

#: Above this many visible patients the open TCM episodes are read for all and
#: filtered here, rather than named in the query one by one.
NAMED_PATIENTS_LIMIT = 20_000


def _deadlines(
    conn: Conn, *, patient_ids: Sequence[UUID], now: datetime
) -> dict[UUID, tuple[Deadline, ...]]:
    if len(patient_ids) <= NAMED_PATIENTS_LIMIT:
        return tcm_deadlines(conn, patient_ids=patient_ids, now=now)
    visible = set(patient_ids)
    every = tcm_deadlines(conn, patient_ids=None, now=now)
    return {p: d for p, d in every.items() if p in visible}


def build_worklist(
    conn: Conn, *, user_id: UUID | None, all_patients: bool, now: datetime, limit: int
) -> Worklist:
    """The worklist of a user (``all_patients``: an admin's, everyone) at ``now``."""
    return worklist.build_worklist(
        conn,
        user_id=user_id,
        all_patients=all_patients,
        now=now,
        limit=limit,
        deadlines=_deadlines,
    )
