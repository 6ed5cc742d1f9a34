"""The alert life cycle: open → acknowledged → resolved, snooze, notes, escalation.

Repository functions: keyword-only, take the connection, never commit.

* Every transition writes one ``alert_events`` row: when, who (``None``: the
  hub), from which status to which, and the coordinator's note.
* A new alert, and one whose severity rises, is pushed to the patient's
  coordinators (:func:`notify_panel`), in the transaction that records it;
  a push for an alert that is not critical waits for the end of the
  recipient's quiet hours (``quiet_until`` in migration 0015).
* A critical alert nobody has acknowledged ``after`` (default 15 minutes)
  since it became critical is escalated: pushed to the supervisors of the
  patient's coordinators (every admin where there are none) and to the
  coordinators again, and again every ``after`` until acknowledged
  (:func:`run_escalations`).
* A snooze hides an alert from the top of the queue until a time; a critical
  alert cannot be snoozed (it must be acknowledged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts.push import enqueue_alert_push
from hub.alerting import Severity
from hub.db import Conn
from hub.exceptions import ConflictError, NotFoundError
from hub.sql import queries

#: The longest snooze.
MAX_SNOOZE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Locked:
    id: int
    patient_id: UUID
    status: str
    severity: Severity


def _lock(conn: Conn, alert_id: int) -> Locked:
    row = conn.execute(queries["alert_for_update"], {"id": alert_id}).fetchone()
    if row is None:
        raise NotFoundError(f"alert {alert_id}")
    return Locked(int(row[0]), row[1], str(row[2]), Severity(row[3]))


def record_event(
    conn: Conn,
    *,
    alert_id: int,
    event: str,
    now: datetime,
    actor: UUID | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        queries["insert_alert_event"],
        {
            "alert_id": alert_id,
            "now": now,
            "actor": actor,
            "event": event,
            "from_status": from_status,
            "to_status": to_status,
            "note": note,
            "detail": Jsonb(detail or {}),
        },
    )


def acknowledge(
    conn: Conn, *, alert_id: int, actor: UUID | None, now: datetime, note: str | None = None
) -> None:
    """Someone is on it: escalation stops. Acknowledging twice is a conflict."""
    alert = _lock(conn, alert_id)
    if alert.status != "open":
        raise ConflictError(f"alert {alert_id} is {alert.status}, not open")
    conn.execute(queries["acknowledge_alert"], {"id": alert_id, "actor": actor, "now": now})
    record_event(
        conn,
        alert_id=alert_id,
        event="acknowledged",
        now=now,
        actor=actor,
        from_status="open",
        to_status="acknowledged",
        note=note,
    )


def resolve(
    conn: Conn, *, alert_id: int, actor: UUID | None, now: datetime, note: str | None = None
) -> None:
    """Done with it (open or acknowledged); new evidence later opens a new alert.

    The patient's detectors learn of it from this row before they score the
    patient's next reading (:mod:`streaming.service`, "resolutions reach the
    monitors").
    """
    alert = _lock(conn, alert_id)
    if alert.status == "resolved":
        raise ConflictError(f"alert {alert_id} is resolved already")
    conn.execute(queries["resolve_alert"], {"id": alert_id, "actor": actor, "now": now})
    record_event(
        conn,
        alert_id=alert_id,
        event="resolved",
        now=now,
        actor=actor,
        from_status=alert.status,
        to_status="resolved",
        note=note,
    )


def snooze(
    conn: Conn,
    *,
    alert_id: int,
    actor: UUID | None,
    now: datetime,
    until: datetime,
    note: str | None = None,
) -> None:
    """Move an alert out of the way until ``until`` (at most :data:`MAX_SNOOZE`)."""
    alert = _lock(conn, alert_id)
    if alert.status == "resolved":
        raise ConflictError(f"alert {alert_id} is resolved")
    if alert.severity is Severity.CRITICAL:
        raise ConflictError("a critical alert cannot be snoozed; acknowledge it")
    if not now < until <= now + MAX_SNOOZE:
        raise ValueError(f"a snooze ends in the future, within {MAX_SNOOZE.days} days")
    conn.execute(queries["snooze_alert"], {"id": alert_id, "until": until, "now": now})
    record_event(
        conn,
        alert_id=alert_id,
        event="snoozed",
        now=now,
        actor=actor,
        from_status=alert.status,
        to_status=alert.status,
        note=note,
        detail={"until": until.isoformat()},
    )


def add_note(conn: Conn, *, alert_id: int, actor: UUID | None, now: datetime, note: str) -> None:
    alert = _lock(conn, alert_id)
    record_event(
        conn,
        alert_id=alert_id,
        event="note",
        now=now,
        actor=actor,
        from_status=alert.status,
        to_status=alert.status,
        note=note,
    )


def panel_of(conn: Conn, *, patient_id: UUID) -> list[UUID]:
    rows = conn.execute(queries["alert_panel"], {"patient_id": patient_id}).fetchall()
    return [row[0] for row in rows]


def notify_panel(
    conn: Conn, *, alert_id: int, patient_id: UUID, severity: Severity, now: datetime
) -> int:
    """Queue the alert's push to the patient's coordinators; how many pushes."""
    recipients = panel_of(conn, patient_id=patient_id)
    pushed = enqueue_alert_push(
        conn, alert_id=alert_id, severity=severity, recipients=recipients, now=now
    )
    return len(pushed)


def run_escalations(conn: Conn, *, now: datetime, after: timedelta) -> int:
    """Escalate the critical alerts left unacknowledged ``after``; how many."""
    due = conn.execute(queries["due_escalations"], {"due_before": now - after}).fetchall()
    for alert_id, patient_id, _ in due:
        level_row = conn.execute(queries["mark_escalated"], {"id": alert_id, "now": now}).fetchone()
        assert level_row is not None
        supervisors = [
            r[0] for r in conn.execute(queries["escalation_recipients"], {"patient_id": patient_id})
        ]
        recipients = list(dict.fromkeys([*supervisors, *panel_of(conn, patient_id=patient_id)]))
        pushes = enqueue_alert_push(
            conn, alert_id=alert_id, severity=Severity.CRITICAL, recipients=recipients, now=now
        )
        record_event(
            conn,
            alert_id=alert_id,
            event="escalated",
            now=now,
            from_status="open",
            to_status="open",
            detail={
                "level": int(level_row[0]),
                "recipients": [str(r) for r in supervisors],
                "pushes": len(pushes),
            },
        )
    return len(due)


# -- reads -----------------------------------------------------------------


def alert_row(conn: Conn, *, alert_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["alert_by_id"], {"id": alert_id}).fetchone()
    if row is None:
        raise NotFoundError(f"alert {alert_id}")
    return row


def alert_details(
    conn: Conn, *, alert_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The alert's evidence and its history (events), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        evidence = cur.execute(queries["alert_evidence"], {"id": alert_id}).fetchall()
        history = cur.execute(queries["alert_history"], {"id": alert_id}).fetchall()
    return evidence, history


def visible_alerts(
    conn: Conn,
    *,
    sees_all: bool,
    user_id: UUID | None,
    status: str,
    now: datetime,
    limit: int,
    patient_id: UUID | None = None,
) -> Sequence[dict[str, Any]]:
    """The alerts of the patients the caller sees, most severe first (snoozed ones last)."""
    params = {
        "all": sees_all,
        "user_id": user_id,
        "status": status,
        "now": now,
        "limit": limit,
        "patient_id": patient_id,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries["visible_alerts"], params).fetchall()
