"""A patient's time in their current month, per programme, as billing counts it.

What the patient page's programme table shows as "this month"
(``GET /api/v1/patients/{id}/month-time``). The month is the patient's own
calendar month holding ``now``, in the patient's time zone, and an entry
counts in the month the export bills it in (migration 0025's
``billing_month_of_entry``: the month it began in on the patient's
calendar, or the month it was moved to when it came after its own month was
signed). Like the export, whole minutes per entry; corrected and withdrawn
entries do not count. TCM time is not billed by the month; it is shown the
same way, for information.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from billing.models import Month
from hub.care_programs import ProgramKind
from hub.db import Conn
from hub.sql import queries

__all__ = ["PatientMonthTime", "ProgramMinutes", "patient_month_time"]


@dataclass(frozen=True, slots=True)
class ProgramMinutes:
    program_id: int
    kind: ProgramKind
    minutes: int


@dataclass(frozen=True, slots=True)
class PatientMonthTime:
    """The patient's month now, and each of their programmes' minutes in it."""

    month: Month
    time_zone: str
    programs: tuple[ProgramMinutes, ...]


def patient_month_time(conn: Conn, *, patient_id: UUID, now: datetime) -> PatientMonthTime:
    """The patient's month holding ``now`` (the caller checked that the patient exists)."""
    params = {"patient_id": patient_id, "now": now}
    rows = conn.execute(queries["patient_month_time"], params).fetchall()
    assert rows, "the caller checked that the patient exists"
    first, time_zone = rows[0][0], rows[0][1]
    return PatientMonthTime(
        Month.of(first),
        time_zone,
        tuple(ProgramMinutes(r[2], ProgramKind(r[3]), r[4]) for r in rows if r[2] is not None),
    )
