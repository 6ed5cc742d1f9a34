"""Response bodies of a patient's care progress (``GET /patients/{id}/care-progress``) and
month's time (``GET /patients/{id}/month-time``).

The figures are :mod:`flows.care_progress`'s and :mod:`flows.month_time`'s, read from
their frozen types by attribute; see ``docs/care-clocks.md``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from flows.month_time import PatientMonthTime
from hub.care_programs import ProgramKind


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClockOut(_Out):
    name: str = Field(description="TCM interactive contact, or TCM face-to-face visit.")
    due: date = Field(description="The last day to meet it, in the patient's time zone.")
    due_at: datetime
    code: str | None = Field(description="The TCM code a visit by then bills.")
    met: datetime | date | None = Field(description="When it was recorded, if it was.")
    status: str = Field(
        description="met, met_late, attempted (the contact: two unsuccessful attempts in"
        " time stand in for it), open, due_today or overdue."
    )
    left_hours: float = Field(description="Hours left; negative once overdue.")
    note: str
    attempts: int = Field(description="The contact's unsuccessful attempts made in time.")


class TcmOut(_Out):
    program_id: int
    discharged_on: date
    complexity: str | None
    period_ends: date = Field(description="The last day of the 30-day service period.")
    clocks: list[ClockOut]


class PeriodOut(_Out):
    """The open 30-day period: days with sensed data against the top tier's days."""

    first_day: date
    last_day: date
    days: int
    target_days: int
    target_code: str
    days_left: int
    text: str
    at_risk: bool = Field(description="Reachable only if the patient measures on most days left.")


class MonthOut(_Out):
    month: str = Field(description="YYYY-MM, the patient's calendar month.")
    minutes: int
    next_at: int | None = Field(description="The minutes at which the next code is earned.")
    next_code: str | None
    interactive: bool = Field(description="The month holds an interactive communication.")
    codes: list[str] = Field(description="What the month bills so far.")
    text: str
    at_risk: bool


class ProgramProgressOut(_Out):
    program_id: int
    kind: ProgramKind
    period: PeriodOut | None = Field(description="RPM only.")
    month: MonthOut | None


class CareProgressOut(_Out):
    generated_at: datetime
    tcm: list[TcmOut]
    programs: list[ProgramProgressOut]


class ProgramMinutesOut(_Out):
    program_id: int
    kind: ProgramKind
    minutes: int = Field(description="Whole minutes per entry, summed, as the export counts them.")


class MonthTimeOut(BaseModel):
    """Each programme's time in the patient's month now (``GET /patients/{id}/month-time``)."""

    month: str = Field(description="YYYY-MM, the patient's calendar month holding now.")
    time_zone: str = Field(description="The patient's, whose calendar the month is.")
    programs: list[ProgramMinutesOut]

    @classmethod
    def of(cls, found: PatientMonthTime) -> MonthTimeOut:
        programs = [ProgramMinutesOut.model_validate(p) for p in found.programs]
        return cls(month=str(found.month), time_zone=found.time_zone, programs=programs)
