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


class DeadlineOut(BaseModel):
    """An open deadline of the patient's care (a transitional-care clock)."""

    name: str = Field(description="TCM interactive contact, or TCM face-to-face visit.")
    due: date = Field(description="The last day to meet it, in the patient's time zone.")
    due_at: datetime = Field(description="When it runs out (the patient's midnight after due).")
    left_hours: float = Field(description="Hours left; negative once overdue.")
    pressing: bool = Field(description="Due today or overdue: ranked above all but critical.")
    note: str
    satisfied: str | None = Field(
        description="What stands in for it (attempted twice): then it is not pressing."
    )


class NoticeOut(BaseModel):
    """A low worklist item that is not an alert and is never pushed (a billing forecast)."""

    kind: str = Field(description="device_days, rpm_time or ccm_time.")
    text: str
    since: datetime


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
    deadlines: list[DeadlineOut] = Field(description="Open deadlines, earliest first.")
    notices: list[NoticeOut]
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
