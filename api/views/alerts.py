"""The alert queue and its life cycle: list, read (with evidence and history), act.

An alert is the patient's: a caller who does not see the patient gets 404,
the same answer as for no such alert. Acknowledging or resolving it may log
the time spent on it (``programs``), in the same transaction. Every action is audited twice: as an
API request (``audit_log``) and in the alert's own history (``alert_events``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts import lifecycle
from api import accounts
from api.accounts import Principal
from api.audit import audit_context
from api.deps import ConnDep, CurrentUserDep
from api.exceptions import BadRequestError, ForbiddenError
from api.schemas_programs import AlertTimeIn, TimeEntryOut
from api.views.time_log import log_alert_time
from hub.exceptions import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Status = Literal["unresolved", "open", "acknowledged", "resolved", "all"]


class AlertOut(BaseModel):
    id: int
    patient_id: UUID
    kind: str
    severity: str
    status: str
    source: str
    reason: str
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    escalation_level: int
    evidence_count: int


class EvidenceOut(BaseModel):
    detected_at: datetime
    source: str
    measure: str | None
    severity: str
    observed: dict[str, Any]
    baseline: dict[str, Any]
    window_start: datetime
    window_end: datetime
    reason: str


class EventOut(BaseModel):
    at: datetime
    event: str
    actor: str | None
    from_status: str | None
    to_status: str | None
    note: str | None
    detail: dict[str, Any]


class AlertDetailOut(AlertOut):
    evidence: list[EvidenceOut]
    history: list[EventOut]


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class AckResolveIn(ActionIn):
    time: AlertTimeIn | None = Field(
        default=None,
        description="Time spent on the alert, logged toward a programme of the patient with "
        "the alert's id, in the same transaction (refused together).",
    )


class AlertActionOut(AlertOut):
    time_entry: TimeEntryOut | None = None


class SnoozeIn(ActionIn):
    minutes: int = Field(ge=1, le=7 * 24 * 60)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)


def visible_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    principal: CurrentUserDep,
    conn: ConnDep,
    request: Request,
) -> int:
    """The path's alert, if its patient is on the caller's panel; else 404."""
    try:
        row = lifecycle.alert_row(conn, alert_id=alert_id)
    except NotFoundError:
        raise NotFoundError(f"alert {alert_id}") from None
    audit_context(request).patient_id = row["patient_id"]
    if not accounts.patient_visible(conn, principal=principal, patient_id=row["patient_id"]):
        raise NotFoundError(f"alert {alert_id}")
    return alert_id


AlertIdDep = Annotated[int, Depends(visible_alert)]


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    conn: ConnDep,
    principal: CurrentUserDep,
    status: Status = "unresolved",
    patient_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    """The caller's alert queue: most severe first, snoozed ones after the rest."""
    if patient_id is not None and not accounts.patient_visible(
        conn, principal=principal, patient_id=patient_id
    ):
        raise NotFoundError(f"patient {patient_id}")
    rows = lifecycle.visible_alerts(
        conn,
        sees_all=principal.sees_all_patients,
        user_id=principal.user_id,
        status=status,
        now=datetime.now(UTC),
        limit=limit,
        patient_id=patient_id,
    )
    return [AlertOut(**row) for row in rows]


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: AlertIdDep, conn: ConnDep) -> AlertDetailOut:
    """One alert with why it fired (its evidence) and what was done (its history)."""
    evidence, history = lifecycle.alert_details(conn, alert_id=alert_id)
    return AlertDetailOut(
        **lifecycle.alert_row(conn, alert_id=alert_id),
        evidence=[EvidenceOut(**e) for e in evidence],
        history=[EventOut(**h) for h in history],
    )


Transition = Callable[..., None]


def _transition(
    change: Transition,
    alert_id: int,
    conn: ConnDep,
    principal: Principal,
    body: AckResolveIn | None,
) -> AlertActionOut:
    change(
        conn,
        alert_id=alert_id,
        actor=principal.user_id,
        now=datetime.now(UTC),
        note=body.note if body else None,
    )
    row = lifecycle.alert_row(conn, alert_id=alert_id)
    entry = None
    if body is not None and body.time is not None:
        if principal.user_id is None:
            raise ForbiddenError("forbidden", "time is a person's: use a user's token")
        entry = log_alert_time(
            conn,
            patient_id=row["patient_id"],
            alert_id=alert_id,
            user=principal.user_id,
            time=body.time,
        )
    return AlertActionOut(**row, time_entry=entry)


@router.post("/alerts/{alert_id}/ack", response_model=AlertActionOut)
def acknowledge(
    alert_id: AlertIdDep,
    conn: ConnDep,
    principal: CurrentUserDep,
    body: AckResolveIn | None = None,
) -> AlertActionOut:
    """Someone is on it (escalation stops); 409 unless the alert is open."""
    return _transition(lifecycle.acknowledge, alert_id, conn, principal, body)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertActionOut)
def resolve(
    alert_id: AlertIdDep,
    conn: ConnDep,
    principal: CurrentUserDep,
    body: AckResolveIn | None = None,
) -> AlertActionOut:
    """Done with it; 409 if it is resolved already."""
    return _transition(lifecycle.resolve, alert_id, conn, principal, body)


@router.post("/alerts/{alert_id}/snooze", response_model=AlertOut)
def snooze(
    alert_id: AlertIdDep, body: SnoozeIn, conn: ConnDep, principal: CurrentUserDep
) -> AlertOut:
    now = datetime.now(UTC)
    try:
        lifecycle.snooze(
            conn,
            alert_id=alert_id,
            actor=principal.user_id,
            now=now,
            until=now + timedelta(minutes=body.minutes),
            note=body.note,
        )
    except ValueError as exc:
        raise BadRequestError("invalid_snooze", str(exc)) from exc
    return AlertOut(**lifecycle.alert_row(conn, alert_id=alert_id))


@router.post("/alerts/{alert_id}/notes", response_model=AlertOut)
def add_note(
    alert_id: AlertIdDep, body: NoteIn, conn: ConnDep, principal: CurrentUserDep
) -> AlertOut:
    now = datetime.now(UTC)
    lifecycle.add_note(conn, alert_id=alert_id, actor=principal.user_id, now=now, note=body.note)
    return AlertOut(**lifecycle.alert_row(conn, alert_id=alert_id))
