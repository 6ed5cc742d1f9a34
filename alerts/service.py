"""Alerts: one unresolved alert per patient and kind, evidence attached to it.

Repository functions: keyword-only, take the connection, never commit. The
ingest worker calls :func:`record_detection` in the same transaction as the
readings that caused the detection; the alert's events and its pushes to the
patient's coordinators (:mod:`alerts.lifecycle`) are written there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts import metrics
from alerts.lifecycle import notify_panel, record_event
from hub.alerting import AlertKind, Detection, Severity, severity_rank
from hub.db import Conn
from hub.sql import queries


@dataclass(frozen=True, slots=True)
class Recorded:
    alert_id: int
    opened: bool  # a new alert, rather than evidence on an unresolved one
    escalated: bool


def record_detection(conn: Conn, *, detection: Detection, now: datetime) -> Recorded:
    """Open an alert for the detection, or attach it to the unresolved one of its kind.

    The alert's severity only rises: evidence of a higher severity escalates
    it; evidence of the same or a higher severity becomes its headline reason;
    lower-severity evidence is kept as evidence.
    """
    key = {"patient_id": detection.patient_id, "kind": detection.kind.value}
    row = conn.execute(queries["unresolved_alert_for_update"], key).fetchone()
    opened = escalated = False
    if row is None:
        inserted = conn.execute(
            queries["insert_alert"],
            {
                **key,
                "severity": detection.severity.value,
                "source": detection.source,
                "reason": detection.reason,
                "now": now,
            },
        ).fetchone()
        assert inserted is not None
        alert_id, opened = int(inserted[0]), True
        metrics.alert_opened(detection.kind, detection.severity)
        record_event(
            conn,
            alert_id=alert_id,
            event="opened",
            now=now,
            to_status="open",
            detail={"severity": detection.severity.value},
        )
    else:
        alert_id = int(row[0])
        current = Severity(row[1])
        rank, current_rank = severity_rank(detection.severity), severity_rank(current)
        if rank >= current_rank:
            # The headline follows the newest evidence at the alert's severity
            # (a refill alert names the class overdue now, not the first one).
            escalated = rank > current_rank
            conn.execute(
                queries["escalate_alert"],
                {
                    "id": alert_id,
                    "severity": detection.severity.value,
                    "source": detection.source,
                    "reason": detection.reason,
                    "now": now,
                    "raised": escalated,
                },
            )
            if escalated:
                record_event(
                    conn,
                    alert_id=alert_id,
                    event="severity_raised",
                    now=now,
                    to_status="open",
                    detail={"from": current.value, "to": detection.severity.value},
                )
        else:
            conn.execute(queries["touch_alert"], {"id": alert_id, "now": now})
    _insert_evidence(conn, alert_id=alert_id, detection=detection, now=now)
    if opened or escalated:
        notify_panel(
            conn,
            alert_id=alert_id,
            patient_id=detection.patient_id,
            severity=detection.severity,
            now=now,
        )
    return Recorded(alert_id=alert_id, opened=opened, escalated=escalated)


def reheadline(conn: Conn, *, detection: Detection, now: datetime) -> bool:
    """Give the patient's unresolved alert of the detection's kind this detection as headline.

    For an alert whose headline names something that cleared while its
    condition goes on for something else (missed readings of another
    measure): the detection becomes its reason and newest evidence, its
    severity is left as it is. False if no such alert is unresolved.
    """
    row = conn.execute(
        queries["reheadline_alert"],
        {
            "patient_id": detection.patient_id,
            "kind": detection.kind.value,
            "source": detection.source,
            "reason": detection.reason,
            "now": now,
        },
    ).fetchone()
    if row is None:
        return False
    _insert_evidence(conn, alert_id=int(row[0]), detection=detection, now=now)
    return True


def _insert_evidence(conn: Conn, *, alert_id: int, detection: Detection, now: datetime) -> None:
    conn.execute(
        queries["insert_alert_evidence"],
        {
            "alert_id": alert_id,
            "now": now,
            "source": detection.source,
            "measure": detection.measure.value if detection.measure else None,
            "severity": detection.severity.value,
            "observed": Jsonb(dict(detection.observed)),
            "baseline": Jsonb(dict(detection.baseline)),
            "window_start": detection.window_start,
            "window_end": detection.window_end,
            "reason": detection.reason,
        },
    )


def recent_alerts(conn: Conn, *, limit: int) -> list[dict[str, Any]]:
    """Unresolved alerts and those changed in the last week, most severe first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries["recent_alerts"], {"limit": limit}).fetchall()


def resolve_automatically(
    conn: Conn,
    *,
    patient_id: UUID,
    kind: AlertKind,
    now: datetime,
    cleared_by: str,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Resolve the patient's unresolved alert of ``kind``, if any (its condition is gone).

    ``cleared_by`` says, in a sentence a coordinator can read, what cleared it
    ("a blood-pressure reading arrived 2 h ago"); it is kept with ``detail``
    on the alert's ``resolved_automatically`` event.
    """
    params = {"patient_id": patient_id, "kind": kind.value, "now": now}
    row = conn.execute(queries["resolve_alert_automatically"], params).fetchone()
    if row is None:
        return False
    record_event(
        conn,
        alert_id=int(row[0]),
        event="resolved_automatically",
        now=now,
        to_status="resolved",
        note=cleared_by,
        detail={"cleared_by": cleared_by, **(detail or {})},
    )
    return True


def raises_evidence(current: Severity | None, new: Severity) -> bool:
    """Whether a scheduled detection is worth recording: it opens its kind or is more severe.

    >>> raises_evidence(None, Severity.LOW), raises_evidence(Severity.LOW, Severity.LOW)
    (True, False)
    """
    return current is None or severity_rank(new) > severity_rank(current)


def record_if_raised(
    conn: Conn,
    *,
    detection: Detection,
    unresolved: dict[tuple[UUID, AlertKind], Severity],
    now: datetime,
) -> bool:
    """Record ``detection`` if it opens its kind or raises the unresolved alert's severity.

    ``unresolved`` (severity per patient and kind) is kept up to date.
    """
    key = (detection.patient_id, detection.kind)
    if not raises_evidence(unresolved.get(key), detection.severity):
        return False
    record_detection(conn, detection=detection, now=now)
    unresolved[key] = detection.severity
    return True
