"""A patient's care progress: the transitional-care clock, the open period and month.

Under ``/patients/{patient_id}`` like the programmes: a caller who does not
see the patient gets 404, and the request is audited with its patient.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import ConnDep, PatientIdDep
from api.schemas_care import CareProgressOut
from flows.care_progress import care_progress

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["programs"])


@router.get("/care-progress", response_model=CareProgressOut)
def get_care_progress(patient_id: PatientIdDep, conn: ConnDep) -> CareProgressOut:
    """Each open TCM episode's clocks; each open RPM and CCM episode's period and month."""
    progress = care_progress(conn, patient_id=patient_id, now=datetime.now(UTC))
    return CareProgressOut.model_validate(progress)
