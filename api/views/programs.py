"""A patient's care programmes: start one, record its consent, set-up and milestones, end it.

Every route is under ``/patients/{patient_id}``: a caller who does not see
the patient gets 404, the same answer as for no such patient, and a
programme of another patient named under this one is 404 too. Every
request is audited with its patient (``audit_log``). Recording needs a user
account (the service token reads, and gets 403 for the rest). The rules'
refusals are 400 (the data) or 409 (the programme's state), each with its
code (``programs.exceptions``). The time log is :mod:`api.views.time_log`.

Recording a TCM milestone, or ending a TCM episode, resolves the patient's
missed-deadline alerts whose cause it ends in the same transaction
(:func:`flows.tcm_alerts.settle_tcm_alerts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, status

from api.deps import ConnDep, PatientIdDep, UserIdDep
from api.schemas_programs import (
    ConsentIn,
    ContactAttemptIn,
    EndIn,
    ProgramIn,
    ProgramOut,
    SetupIn,
    TcmMilestonesIn,
)
from flows.tcm_alerts import settle_tcm_alerts
from hub.care_programs import ProgramKind
from hub.db import Conn
from programs import episodes
from programs.models import Practitioner, Statement

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["programs"])

ProgramId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _record(
    conn: Conn, patient_id: UUID, program_id: int, statements: Sequence[Statement], actor: UUID
) -> ProgramOut:
    """The one way a body's facts are recorded (consent, set-up, milestones, contact
    attempts): the programmes' rules (each once, 409 ``already_recorded`` after; attempts
    any number), then a TCM episode's missed-deadline alerts whose cause is gone resolve
    themselves in the same transaction."""
    now = datetime.now(UTC)
    episode = episodes.record(
        conn,
        patient_id=patient_id,
        episode_id=program_id,
        statements=statements,
        actor=actor,
        now=now,
    )
    if episode.kind is ProgramKind.TCM:
        settle_tcm_alerts(conn, patient_id=patient_id, now=now)
    return ProgramOut.of(episode)


@router.get("/programs", response_model=list[ProgramOut])
def list_programs(patient_id: PatientIdDep, conn: ConnDep) -> list[ProgramOut]:
    """The patient's programme episodes, the newest first."""
    return [ProgramOut.of(e) for e in episodes.list_episodes(conn, patient_id=patient_id)]


@router.post("/programs", status_code=status.HTTP_201_CREATED, response_model=ProgramOut)
def start_program(
    patient_id: PatientIdDep, body: ProgramIn, conn: ConnDep, actor: UserIdDep
) -> ProgramOut:
    """Start an episode; its consent and RPM set-up may come with it (or later)."""
    episode = episodes.start_episode(
        conn,
        patient_id=patient_id,
        kind=body.kind,
        started_on=body.started_on,
        ordering=Practitioner(name=body.ordering.name, npi=body.ordering.npi),
        conditions=body.conditions,
        actor=actor,
        now=datetime.now(UTC),
        tcm=body.tcm.to_tcm() if body.tcm else None,
    )
    if body.statements():
        return _record(conn, patient_id, episode.id, body.statements(), actor)
    return ProgramOut.of(episode)


@router.get("/programs/{program_id}", response_model=ProgramOut)
def get_program(patient_id: PatientIdDep, program_id: ProgramId, conn: ConnDep) -> ProgramOut:
    return ProgramOut.of(episodes.get_episode(conn, patient_id=patient_id, episode_id=program_id))


@router.post("/programs/{program_id}/consent", response_model=ProgramOut)
def record_consent(
    patient_id: PatientIdDep,
    program_id: ProgramId,
    body: ConsentIn,
    conn: ConnDep,
    actor: UserIdDep,
) -> ProgramOut:
    """Record the patient's consent (once; 409 ``already_recorded`` after)."""
    return _record(conn, patient_id, program_id, body.statements(), actor)


@router.post("/programs/{program_id}/setup", response_model=ProgramOut)
def record_setup(
    patient_id: PatientIdDep, program_id: ProgramId, body: SetupIn, conn: ConnDep, actor: UserIdDep
) -> ProgramOut:
    """Record an RPM episode's device set-up and education (99453: once per episode)."""
    return _record(conn, patient_id, program_id, body.statements(), actor)


@router.post("/programs/{program_id}/tcm", response_model=ProgramOut)
def record_tcm_milestones(
    patient_id: PatientIdDep,
    program_id: ProgramId,
    body: TcmMilestonesIn,
    conn: ConnDep,
    actor: UserIdDep,
) -> ProgramOut:
    """Record TCM milestones (each once); a met deadline's missed alert resolves itself."""
    return _record(conn, patient_id, program_id, body.statements(), actor)


@router.post(
    "/programs/{program_id}/contact-attempts",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgramOut,
)
def record_contact_attempt(
    patient_id: PatientIdDep,
    program_id: ProgramId,
    body: ContactAttemptIn,
    conn: ConnDep,
    actor: UserIdDep,
) -> ProgramOut:
    """Record the caller's unsuccessful attempt at a TCM programme's interactive contact
    (any number); two in time stand in for the contact, and its missed alert resolves."""
    return _record(conn, patient_id, program_id, (body.statement(actor),), actor)


@router.post("/programs/{program_id}/end", response_model=ProgramOut)
def end_program(
    patient_id: PatientIdDep,
    program_id: ProgramId,
    body: EndIn,
    conn: ConnDep,
    actor: UserIdDep,
) -> ProgramOut:
    """End the episode on its last day (not in the future, nor before time logged toward it)."""
    now = datetime.now(UTC)
    episode = episodes.end_episode(
        conn,
        patient_id=patient_id,
        episode_id=program_id,
        ended_on=body.ended_on,
        actor=actor,
        now=now,
    )
    if episode.kind is ProgramKind.TCM:
        settle_tcm_alerts(conn, patient_id=patient_id, now=now)
    return ProgramOut.of(episode)
