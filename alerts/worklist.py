"""The coordinator's worklist: the caller's patients, highest priority first, with reasons.

Two queries for the whole panel, whatever its size (``hub/sql/worklist.sql``): the
high-risk cutoff, then one row per visible patient with its stored discharge scores,
identifiers, unresolved alerts and open notices (:mod:`alerts.notices`). The priority
formula and the reasons are in :mod:`alerts.priority`.

Deadlines of the patients' care (the transitional-care clocks) belong to the
programmes, which this package does not know: the caller passes a
:class:`DeadlineSource` that gives them for the visible patients
(:mod:`flows.worklist` passes the programmes' clocks).

*High-risk* is the top 15 % by discharge risk among **all** enrolled patients, not
among the caller's panel: the flag then means the same on every panel and for every
caller (a supervisor and their coordinators agree on it), and a panel of mostly
low-risk patients does not get 15 % of them flagged. Patients without a computable
risk are left out of the ranking and never flagged.

Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg.rows import dict_row

from alerts.priority import (
    Deadline,
    Notice,
    OpenAlert,
    PatientFacts,
    Scored,
    rank,
    severity_counts,
)
from hub.db import Conn
from hub.sql import queries

#: The share of all enrolled patients flagged high-risk.
HIGH_RISK_FRACTION = 0.15


class DeadlineSource(Protocol):
    """The open deadlines of the given patients at ``now``, earliest first (none: left out)."""

    def __call__(
        self, conn: Conn, *, patient_ids: Sequence[UUID], now: datetime
    ) -> Mapping[UUID, tuple[Deadline, ...]]: ...


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One patient on the worklist: the facts, the priority and its reasons."""

    facts: PatientFacts
    scored: Scored
    identifiers: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...]
    alert_counts: dict[str, int]
    oldest_alert_opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class Worklist:
    rows: list[WorklistRow]
    #: The lowest discharge risk flagged high-risk; None when no patient has a risk.
    high_risk_cutoff: float | None
    #: Patients visible to the caller (``rows`` may be fewer: the limit).
    total: int


def high_risk_cutoff(conn: Conn, *, top_fraction: float = HIGH_RISK_FRACTION) -> float | None:
    """The lowest discharge risk in the top ``top_fraction`` of all enrolled patients."""
    row = conn.execute(queries["high_risk_cutoff"], {"top_fraction": top_fraction}).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _alert(item: dict[str, Any]) -> OpenAlert:
    opened = _when(item["opened_at"])
    assert opened is not None
    return OpenAlert(
        kind=item["kind"],
        severity=item["severity"],
        status=item["status"],
        reason=item["reason"],
        opened_at=opened,
        snoozed_until=_when(item.get("snoozed_until")),
    )


def _notice(item: dict[str, Any]) -> Notice:
    since = _when(item["since"])
    assert since is not None
    return Notice(kind=item["kind"], text=item["text"], since=since)


def _facts(row: dict[str, Any], now: datetime) -> PatientFacts:
    return PatientFacts(
        patient_id=row["patient_id"],
        pathway=row["pathway"],
        discharge_date=row["discharge_date"],
        discharge_risk=row["discharge_risk"],
        lace=row["lace"],
        hospital=row["hospital"],
        high_risk=row["high_risk"],
        alerts=tuple(_alert(a) for a in row["alerts"]),
        today=_today(now, row["timezone"]),
        notices=tuple(_notice(n) for n in row["notices"]),
    )


def _today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def build_worklist(
    conn: Conn,
    *,
    user_id: UUID | None,
    all_patients: bool,
    now: datetime,
    limit: int,
    top_fraction: float = HIGH_RISK_FRACTION,
    deadlines: DeadlineSource | None = None,
) -> Worklist:
    """The worklist of a user (``all_patients``: an admin's, everyone) at ``now``."""
    cutoff = high_risk_cutoff(conn, top_fraction=top_fraction)
    params = {"all": all_patients, "user_id": user_id, "cutoff": cutoff}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["worklist_panel"], params).fetchall()
    by_id = {row["patient_id"]: (row, _facts(row, now)) for row in rows}
    if deadlines is not None and by_id:
        found = deadlines(conn, patient_ids=list(by_id), now=now)
        for patient_id, theirs in found.items():
            if patient_id in by_id:
                row, facts = by_id[patient_id]
                by_id[patient_id] = (row, replace(facts, deadlines=theirs))
    out: list[WorklistRow] = []
    for scored in rank((facts for _, facts in by_id.values()), now=now)[:limit]:
        row, facts = by_id[scored.patient_id]
        live = [a for a in facts.alerts if not a.snoozed(now)]
        out.append(
            WorklistRow(
                facts=facts,
                scored=scored,
                identifiers=tuple((i["system"], i["value"]) for i in row["identifiers"]),
                conditions=tuple(row["conditions"]),
                alert_counts=severity_counts(facts.alerts, now=now),
                oldest_alert_opened_at=min((a.opened_at for a in live), default=None),
            )
        )
    return Worklist(rows=out, high_risk_cutoff=cutoff, total=len(rows))
