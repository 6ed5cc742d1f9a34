"""A programme's record and its corrections: consent, set-up, TCM milestones, contact attempts.

Under ``/patients/{patient_id}/programs/{program_id}`` like the programmes
(:mod:`api.views.programs`): 404 for a patient the caller does not see, and
for another patient's programme or another programme's record named here;
audited with the patient. Nothing recorded is changed: a correction is a new
record that supersedes one (the latest of its chain: 409
``already_superseded`` otherwise), with who, when and why, and the old one
stays in the history. Each correction also writes an audit row of its own in
its transaction (``programs.correct <fact> record:<old> -> record:<new>``, or
``programs.withdraw``), beside the request's. A correction of a TCM
milestone or attempt settles the patient's missed-deadline alerts, as a
recording does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api import audit
from api.deps import ConnDep, CurrentUserDep, PatientIdDep, UserIdDep
from api.schemas_programs import RecordCorrectionIn, RecordOut
from api.views.programs import ProgramId
from flows.tcm_alerts import settle_tcm_alerts
from hub.care_programs import ProgramKind
from programs import corrections
from programs.facts import KIND

router = APIRouter(prefix="/api/v1/patients/{patient_id}/programs/{program_id}", tags=["programs"])

RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/records", response_model=list[RecordOut])
def program_records(
    patient_id: PatientIdDep, program_id: ProgramId, conn: ConnDep
) -> list[RecordOut]:
    """Everything recorded of the programme, the oldest first: corrected and withdrawn
    records too (``current`` false), each with the correction that replaces it."""
    found = corrections.history(conn, patient_id=patient_id, episode_id=program_id)
    return [RecordOut.of(r) for r in found]


@router.post(
    "/records/{record_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordOut,
)
def correct_record(
    patient_id: PatientIdDep,
    program_id: ProgramId,
    record_id: RecordId,
    body: RecordCorrectionIn,
    conn: ConnDep,
    principal: CurrentUserDep,
    actor: UserIdDep,
    request: Request,
) -> RecordOut:
    """A new record that supersedes this one: what is given changes, the rest stays (or
    ``withdraw``), with why. 409 ``already_superseded`` for a record corrected already."""
    now = datetime.now(UTC)
    new = corrections.correct(
        conn,
        patient_id=patient_id,
        episode_id=program_id,
        record_id=record_id,
        reason=body.reason,
        actor=actor,
        now=now,
        changes=body.changes(),
        withdraw=body.withdraw,
    )
    verb = "withdraw" if new.withdrawn else "correct"
    audit.record_event(
        conn,
        request=request,
        principal=principal,
        action=f"programs.{verb} {new.fact} record:{new.supersedes} -> record:{new.id}",
        patient_id=patient_id,
        outcome=status.HTTP_201_CREATED,
        at=now,
    )
    if KIND.get(new.fact) is ProgramKind.TCM:
        settle_tcm_alerts(conn, patient_id=patient_id, now=now)
    return RecordOut.of(new)
