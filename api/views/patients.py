"""Patients: enroll, list the caller's panel, read one, assign coordinators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from api import accounts
from api.accounts import Role
from api.deps import ConnDep, CurrentUserDep, PatientIdDep
from api.exceptions import ForbiddenError
from api.schemas import CoordinatorsIn, DischargeInputsIn, IdentifierIn, PatientIn, PatientOut
from hub import patients
from hub.db import Conn

router = APIRouter(prefix="/api/v1")


def _patient_out(conn: Conn, patient: patients.Patient) -> PatientOut:
    return PatientOut(
        id=patient.id,
        identifiers=[IdentifierIn(system=i.system, value=i.value) for i in patient.identifiers],
        pathway=patient.pathway,
        conditions=list(patient.conditions),
        discharge_date=patient.discharge_date,
        discharge_inputs=DischargeInputsIn.of(patient.discharge_inputs),
        lace=patient.lace,
        hospital=patient.hospital,
        discharge_risk=patient.discharge_risk,
        enrolled_at=patient.enrolled_at,
        timezone=patient.timezone,
        threshold_overrides=dict(patient.threshold_overrides),
        coordinators=accounts.coordinators_of(conn, patient_id=patient.id),
    )


@router.post("/patients", status_code=status.HTTP_201_CREATED, response_model=PatientOut)
def enroll_patient(body: PatientIn, conn: ConnDep, principal: CurrentUserDep) -> PatientOut:
    patient = patients.enroll_patient(
        conn,
        pathway=body.pathway,
        discharge_date=body.discharge_date,
        identifiers=[patients.Identifier(system=i.system, value=i.value) for i in body.identifiers],
        timezone=body.timezone,
        threshold_overrides=body.threshold_overrides,
        conditions=body.conditions,
        discharge_inputs=body.discharge_inputs.to_inputs(),
    )
    coordinators = list(body.coordinators)
    if not coordinators and principal.role is not Role.ADMIN and principal.user_id is not None:
        coordinators = [principal.user_id]  # a coordinator's new patient is on their panel
    if coordinators:
        accounts.assign_coordinators(
            conn,
            patient_id=patient.id,
            user_ids=coordinators,
            now=datetime.now(UTC),
            replace=False,
        )
    return _patient_out(conn, patient)


@router.get("/patients", response_model=list[PatientOut])
def list_patients(
    conn: ConnDep,
    principal: CurrentUserDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[PatientOut]:
    """The caller's panel (a supervisor's team's; an admin's: everyone)."""
    ids = accounts.visible_patient_ids(conn, principal=principal, limit=limit)
    return [_patient_out(conn, patients.get_patient(conn, patient_id=i)) for i in ids]


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(patient_id: PatientIdDep, conn: ConnDep) -> PatientOut:
    return _patient_out(conn, patients.get_patient(conn, patient_id=patient_id))


@router.put("/patients/{patient_id}/coordinators", response_model=PatientOut)
def set_coordinators(
    patient_id: PatientIdDep, body: CoordinatorsIn, conn: ConnDep, principal: CurrentUserDep
) -> PatientOut:
    """Replace the patient's coordinators (an admin, or a supervisor who sees the patient)."""
    if principal.role is Role.COORDINATOR:
        raise ForbiddenError("forbidden", "only a supervisor or an admin assigns patients")
    accounts.assign_coordinators(
        conn,
        patient_id=patient_id,
        user_ids=body.coordinators,
        now=datetime.now(UTC),
        replace=True,
    )
    return _patient_out(conn, patients.get_patient(conn, patient_id=patient_id))
