"""A patient's adherence: PDC and refills per drug class, and days with device data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from api.deps import ConnDep, PatientIdDep
from api.schemas import AdherenceOut, ClassAdherence, DeviceDays, LastFill
from hub import patients
from hub.sql import queries
from streaming.refills import PERIOD_DAYS, ClassFill, class_summaries

router = APIRouter(prefix="/api/v1")

#: The device-data period: the last 30 days, today included.
DEVICE_DAYS = 30


@router.get("/patients/{patient_id}/adherence", response_model=AdherenceOut)
def patient_adherence(patient_id: PatientIdDep, conn: ConnDep) -> AdherenceOut:
    patient = patients.get_patient(conn, patient_id=patient_id)
    today = datetime.now(UTC).date()
    fills = [
        ClassFill(drug, frozenset(classes), filled_on, int(days))
        for drug, classes, filled_on, days, _ in conn.execute(
            queries["dispenses_of_patient"], {"patient_id": patient.id}
        )
    ]
    classes = []
    for s in class_summaries(fills, today=today):
        r = s.pdc
        eligible = r is not None and r.eligible
        classes.append(
            ClassAdherence(
                drug_class=s.name,
                label=s.label,
                pdc=round(r.pdc, 4) if r is not None and eligible else None,
                covered_days=r.covered_days if r is not None and eligible else None,
                period_days=r.period_days if r is not None and eligible else None,
                threshold=s.threshold,
                adherent=r.adherent(s.threshold) if r is not None else None,
                last_fill=LastFill(
                    drug=s.last_drug, filled_on=s.last_filled_on, days_supply=s.last_days_supply
                ),
                next_refill_due=s.runs_out,
                overdue=s.overdue,
            )
        )
    local_today = datetime.now(ZoneInfo(patient.timezone)).date()
    start = local_today - timedelta(days=DEVICE_DAYS - 1)
    row = conn.execute(
        queries["device_days"],
        {
            "patient_id": patient.id,
            "start": datetime.combine(start, time(), tzinfo=UTC) - timedelta(days=1),
            "end": datetime.combine(local_today, time(), tzinfo=UTC) + timedelta(days=2),
            "first": start,
            "last": local_today,
        },
    ).fetchone()
    return AdherenceOut(
        patient_id=patient.id,
        as_of=today,
        pdc_period_start=today - timedelta(days=PERIOD_DAYS - 1),
        classes=classes,
        device_days=DeviceDays(
            days_with_data=int(row[0]) if row else 0,
            period_days=DEVICE_DAYS,
            start=start,
            end=local_today,
        ),
    )
