"""A patient's care progress: the transitional-care clock, the open period and month; and
each programme's time in the patient's month, as billing counts it.

Under ``/patients/{patient_id}`` like the programmes: a caller who does not
see the patient gets 404, and the request is audited with its patient.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import ConnDep, PatientIdDep
from api.schemas_care import CareProgressOut, MonthTimeOut
from flows.care_progress import care_progress
from flows.month_time import patient_month_time

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["programs"])


@router.get("/care-progress", response_model=CareProgressOut)
def get_care_progress(patient_id: PatientIdDep, conn: ConnDep) -> CareProgressOut:
    """Each open TCM episode's clocks; each open RPM and CCM episode's period and month."""
    progress = care_progress(conn, patient_id=patient_id, now=datetime.now(UTC))
    return CareProgressOut.model_validate(progress)


@router.get("/month-time", response_model=MonthTimeOut)
def get_month_time(patient_id: PatientIdDep, conn: ConnDep) -> MonthTimeOut:
    """Each programme's minutes in the patient's month now (their calendar, their zone), counted
    as the billing export counts them."""
    found = patient_month_time(conn, patient_id=patient_id, now=datetime.now(UTC))
    return MonthTimeOut.of(found)
