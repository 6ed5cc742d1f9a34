"""The coordinator's time log on a patient, and their running timer on the patient.

Under ``/patients/{patient_id}`` like the programmes (:mod:`api.views.programs`):
404 for a patient the caller does not see, and for another patient's entry
or programme named under this one; audited with the patient. The time is
the caller's own (the service token gets 403). Entries are never changed: a
correction is a new entry that supersedes one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import ConnDep, PatientIdDep, UserIdDep
from api.schemas_programs import (
    AlertTimeIn,
    CorrectionIn,
    TimeEntryIn,
    TimeEntryOut,
    TimerOut,
    TimerStartIn,
    WorkIn,
)
from flows.billing_export.signoff import check_correctable
from hub.db import Conn
from programs import timelog, timers
from programs.models import EntrySource
from programs.timelog import span_of

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["programs"])

EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def log_alert_time(
    conn: Conn, *, patient_id: UUID, alert_id: int, user: UUID, time: AlertTimeIn
) -> TimeEntryOut:
    """Log time spent on an alert (with its acknowledgement or resolution, in its transaction)."""
    now = datetime.now(UTC)
    entry = timelog.log_time(
        conn,
        patient_id=patient_id,
        episode_id=time.program_id,
        coordinator_id=user,
        span=span_of(now=now, minutes=time.minutes),
        work=time.to_work(),
        now=now,
        alert_id=alert_id,
        source=EntrySource.ALERT,
    )
    return TimeEntryOut.of(entry)


@router.get("/time-entries", response_model=list[TimeEntryOut])
def list_time_entries(
    patient_id: PatientIdDep,
    conn: ConnDep,
    program_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    since: Annotated[datetime | None, Query(description="Begun at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Begun before.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 5000,
) -> list[TimeEntryOut]:
    """The patient's entries, oldest first: corrected and withdrawn ones too (``counts``)."""
    entries = timelog.list_entries(
        conn,
        patient_id=patient_id,
        episode_id=program_id,
        since=_aware(since),
        until=_aware(until),
        limit=limit,
    )
    return [TimeEntryOut.of(e) for e in entries]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.post("/time-entries", status_code=status.HTTP_201_CREATED, response_model=TimeEntryOut)
def log_time(
    patient_id: PatientIdDep, body: TimeEntryIn, conn: ConnDep, user: UserIdDep
) -> TimeEntryOut:
    """Log the caller's time toward one of the patient's programmes."""
    now = datetime.now(UTC)
    entry = timelog.log_time(
        conn,
        patient_id=patient_id,
        episode_id=body.program_id,
        coordinator_id=user,
        span=span_of(
            now=now,
            minutes=body.minutes,
            at=body.at,
            started_at=body.started_at,
            ended_at=body.ended_at,
        ),
        work=body.to_work(),
        now=now,
        alert_id=body.alert_id,
    )
    return TimeEntryOut.of(entry)


@router.post(
    "/time-entries/{entry_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    response_model=TimeEntryOut,
)
def correct_time_entry(
    patient_id: PatientIdDep,
    entry_id: EntryId,
    body: CorrectionIn,
    conn: ConnDep,
    user: UserIdDep,
) -> TimeEntryOut:
    """A new entry that supersedes this one (the latest version only; 409 otherwise).

    409 ``month_signed`` if the entry is billed in a month signed off.
    """
    now = datetime.now(UTC)
    old = timelog.get_entry(conn, patient_id=patient_id, entry_id=entry_id)
    check_correctable(conn, patient_id=patient_id, entry_id=entry_id)
    span = None
    if body.changes_time:
        at = body.at or (old.started_at if body.minutes is not None else None)
        span = span_of(
            now=now, minutes=body.minutes, at=at, started_at=body.started_at, ended_at=body.ended_at
        )
    entry = timelog.correct_entry(
        conn,
        patient_id=patient_id,
        entry_id=entry_id,
        reason=body.reason,
        actor=user,
        now=now,
        episode_id=body.program_id,
        span=span,
        activity=body.activity,
        interactive=body.interactive,
        note=body.note,
    )
    return TimeEntryOut.of(entry)


# -- the caller's running timer on the patient -------------------------------


@router.get("/timer", response_model=TimerOut | None)
def current_timer(patient_id: PatientIdDep, conn: ConnDep, user: UserIdDep) -> TimerOut | None:
    """The caller's running timer on the patient, or null."""
    timer = timers.current_timer(conn, coordinator_id=user, patient_id=patient_id)
    return TimerOut.of(timer, now=datetime.now(UTC)) if timer else None


@router.post("/timer/start", response_model=TimerOut)
def start_timer(
    patient_id: PatientIdDep,
    conn: ConnDep,
    user: UserIdDep,
    body: TimerStartIn | None = None,
) -> TimerOut:
    """Start the caller's timer; if it runs (another tab), the running one (``started``
    false)."""
    now, body = datetime.now(UTC), body or TimerStartIn()
    timer, started = timers.start_timer(
        conn,
        coordinator_id=user,
        patient_id=patient_id,
        now=now,
        episode_id=body.program_id,
        alert_id=body.alert_id,
    )
    return TimerOut.of(timer, now=now, started=started)


@router.post("/timer/stop", status_code=status.HTTP_201_CREATED, response_model=TimeEntryOut)
def stop_timer(
    patient_id: PatientIdDep, body: WorkIn, conn: ConnDep, user: UserIdDep
) -> TimeEntryOut:
    """Stop the caller's timer: its time becomes an entry (409 ``timer_conflict`` if none)."""
    entry = timers.stop_timer(
        conn,
        coordinator_id=user,
        patient_id=patient_id,
        work=body.to_work(),
        now=datetime.now(UTC),
    )
    return TimeEntryOut.of(entry)


@router.delete("/timer", status_code=status.HTTP_204_NO_CONTENT)
def discard_timer(patient_id: PatientIdDep, conn: ConnDep, user: UserIdDep) -> Response:
    """Drop the caller's running timer without logging it (204 whether or not one ran)."""
    timers.discard_timer(conn, coordinator_id=user, patient_id=patient_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
