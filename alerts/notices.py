"""Worklist notices: low items on the worklist that are not alerts, and never push.

A notice is what a scheduled pass finds worth a coordinator's glance but not
an alert: the daily billing forecast's "needs 6 more days in 8 for 99454"
(:mod:`flows.forecasts`). It is not an alert on purpose. An alert is pushed
to the patient's coordinators when it opens (:func:`alerts.lifecycle.notify_panel`,
every severity), asks to be acknowledged and resolved, and counts among the
patient's clinical alerts; a forecast is none of these, and must never
push. So a notice has no life cycle beyond open and cleared, no outbox and
no events: the pass that posts it clears it when it no longer holds (with
the reason), and the worklist shows the open ones at low weight
(:mod:`alerts.priority`).

One open notice per patient, kind, programme episode and period (the first
day of a 30-day period, or of a month). Repository functions: keyword-only,
take the connection, never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from hub.db import Conn
from hub.sql import queries


class NoticeKind(enum.StrEnum):
    #: An RPM 30-day period whose device days are reachable only if the patient
    #: measures on most of the days left.
    DEVICE_DAYS = "device_days"
    #: A month whose RPM time bills nothing yet, near its end.
    RPM_TIME = "rpm_time"
    #: A month whose CCM time bills nothing yet, near its end.
    CCM_TIME = "ccm_time"


@dataclass(frozen=True, slots=True)
class NoticeKey:
    """What a notice is about: the patient, the kind, the episode and the period's first day."""

    patient_id: UUID
    kind: NoticeKind
    episode_id: int
    period_start: date


@dataclass(frozen=True, slots=True)
class OpenNotice:
    id: int
    key: NoticeKey
    text: str


def open_notices(conn: Conn, *, kinds: Collection[NoticeKind]) -> list[OpenNotice]:
    """The open notices of ``kinds``, oldest first."""
    rows = conn.execute(queries["open_worklist_notices"], {"kinds": [k.value for k in kinds]})
    return [
        OpenNotice(int(i), NoticeKey(patient_id, NoticeKind(kind), int(episode), start), text)
        for i, patient_id, kind, episode, start, text in rows
    ]


@dataclass(frozen=True, slots=True)
class NoticeText:
    """What a pass wants a notice to say: the text, and the figures behind it."""

    key: NoticeKey
    text: str
    detail: Mapping[str, Any]


def post_notices(conn: Conn, *, notices: Sequence[NoticeText], now: datetime) -> int:
    """Open each notice, or bring the open one of its key up to date (one statement for
    all); how many opened. The keys must differ."""
    if not notices:
        return 0
    rows = [
        {
            "patient_id": str(n.key.patient_id),
            "kind": n.key.kind.value,
            "episode_id": n.key.episode_id,
            "period_start": n.key.period_start.isoformat(),
            "text": n.text,
            "detail": n.detail,
        }
        for n in notices
    ]
    params = {"notices": Jsonb(rows), "now": now}
    return sum(opened for (opened,) in conn.execute(queries["post_worklist_notices"], params))


def clear_notices(conn: Conn, *, reasons: Mapping[int, str], now: datetime) -> int:
    """Clear the open notices of these ids, each saying why (one statement for all); how
    many were still open."""
    if not reasons:
        return 0
    params = {"ids": list(reasons), "reasons": list(reasons.values()), "now": now}
    return len(conn.execute(queries["clear_worklist_notices"], params).fetchall())
