"""Response bodies of the worklist (``GET /api/v1/worklist``)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import IdentifierIn, Pathway


class WorklistAlerts(BaseModel):
    """Unresolved alerts of every kind, by severity (snoozed ones only in ``snoozed``)."""

    critical: int
    high: int
    medium: int
    low: int
    acknowledged: int = Field(description="Of the above, how many are acknowledged.")
    snoozed: int
    oldest_opened_at: datetime | None
    oldest_age_hours: float | None


class NonAdherence(BaseModel):
    """Open non-adherence alerts (snoozed ones aside)."""

    missed_readings: bool = Field(
        description="missed_readings, device_never_active, frequency_drop, gateway_offline,"
        " device_problem or reading_gap."
    )
    refill_overdue: bool
    low_pdc: bool


class WorklistRowOut(BaseModel):
    patient_id: UUID
    identifiers: list[IdentifierIn]
    pathway: Pathway
    conditions: list[str]
    discharge_date: date | None
    days_since_discharge: int | None = Field(description="In the patient's time zone.")
    discharge_risk: float | None
    lace: int | None
    hospital: int | None
    high_risk: bool = Field(
        description="In the top 15 % of all enrolled patients by discharge risk."
    )
    alerts: WorklistAlerts
    non_adherence: NonAdherence
    priority: float = Field(description="Higher first; the formula is in alerts/priority.py.")
    reasons: list[str] = Field(description="Why, heaviest first.")


class WorklistOut(BaseModel):
    generated_at: datetime
    high_risk_fraction: float
    high_risk_cutoff: float | None = Field(
        description="The lowest discharge risk flagged high-risk (over all enrolled patients)."
    )
    total: int = Field(description="Patients visible to the caller; rows may stop at limit.")
    patients: list[WorklistRowOut]
