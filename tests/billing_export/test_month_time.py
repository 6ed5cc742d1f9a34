"""The patient page's "this month": the patient's own month, counted as the export bills it.

Pacific/Kiritimati is UTC+14 and Pacific/Pago_Pago UTC-11, so an entry near midnight
UTC is in a month there other than UTC's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest

from billing.models import Month
from flows.billing_export.evidence import Scope
from flows.billing_export.signoff import sign_off
from flows.month_time import PatientMonthTime, ProgramMinutes, patient_month_time
from hub.care_programs import ProgramKind
from programs import timelog
from programs.timelog import Span
from tests.api_support import make_user
from tests.billing_export.support import (
    CALL,
    MARCH,
    NOW,
    REVIEW,
    home,
    log,
    month_rows,
    of,
    programme,
)

pytestmark = pytest.mark.services

Conn = psycopg.Connection[Any]
FEBRUARY = Month(2026, 2)


def _billed(conn: Conn, month: Month, patient: UUID) -> int:
    """The minutes of the patient's time rows in the month's export."""
    rows = [r for r in of(month_rows(conn, month), patient) if r["service"] == "time"]
    return sum(int(r["quantity"]) for r in rows)


def _at(conn: Conn, patient: UUID, utc: str) -> PatientMonthTime:
    """The patient's month time at ``utc`` (ISO, UTC)."""
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    return patient_month_time(conn, patient_id=patient, now=moment)


def test_the_month_is_the_patients_own_and_holds_what_the_export_bills(conn: Conn) -> None:
    cora = make_user(conn, "cora")
    east = home(conn, mrn="SIM-K", tz="Pacific/Kiritimati", coordinator=cora)
    rpm = programme(conn, east.patient, cora, start=date(2026, 2, 1), consent=date(2026, 2, 1))
    # 23:30 on 28 February there, and 00:30 on 1 March there (both 28 February in UTC).
    log(conn, east.patient, cora, at=datetime(2026, 2, 28, 9, 30, tzinfo=UTC), minutes=20,
        work=CALL)  # fmt: skip
    log(conn, east.patient, cora, at=datetime(2026, 2, 28, 10, 30, tzinfo=UTC), minutes=12,
        work=CALL)  # fmt: skip

    found = _at(conn, east.patient, "2026-02-28T11:00")  # February in UTC, 1 March there
    assert (found.month, found.time_zone) == (MARCH, "Pacific/Kiritimati")
    assert found.programs == (ProgramMinutes(rpm.id, ProgramKind.RPM, 12),)
    assert _billed(conn, MARCH, east.patient) == 12
    before = _at(conn, east.patient, "2026-02-28T09:59")  # 23:59 on 28 February there
    assert (before.month, before.programs[0].minutes) == (FEBRUARY, 20)
    assert _billed(conn, FEBRUARY, east.patient) == 20

    west = home(conn, mrn="SIM-P", tz="Pacific/Pago_Pago", coordinator=cora)
    ccm = programme(conn, west.patient, cora, kind=ProgramKind.CCM, start=date(2026, 2, 1),
                    consent=date(2026, 2, 1))  # fmt: skip
    # 18:00 on 28 February there: 1 March in UTC.
    log(conn, west.patient, cora, at=datetime(2026, 3, 1, 5, 0, tzinfo=UTC), minutes=25,
        work=CALL)  # fmt: skip
    found = _at(conn, west.patient, "2026-03-01T10:00")
    assert (found.month, found.programs) == (FEBRUARY, (ProgramMinutes(ccm.id, ccm.kind, 25),))
    assert _billed(conn, FEBRUARY, west.patient) == 25


def test_time_moved_from_a_signed_month_counts_and_corrected_time_does_not(conn: Conn) -> None:
    """Whole minutes per entry, like the export: 90 s and 90 s are 2 minutes, not 3."""
    cora = make_user(conn, "cora")
    h = home(conn, mrn="SIM-M", tz="America/Chicago", coordinator=cora)
    rpm = programme(conn, h.patient, cora, start=date(2026, 2, 1), consent=date(2026, 2, 1))
    sign_off(conn, month=FEBRUARY, scope=Scope(), signer=cora, now=NOW)
    # Logged after February was signed: billed in March.
    log(conn, h.patient, cora, at=datetime(2026, 2, 20, 15, tzinfo=UTC), minutes=12, work=CALL)
    for day in (2, 3):
        timelog.log_time(
            conn, patient_id=h.patient, episode_id=rpm.id, coordinator_id=cora,
            span=Span(datetime(2026, 3, day, 15, tzinfo=UTC), None, 90), work=REVIEW, now=NOW,
        )  # fmt: skip
    wrong = log(conn, h.patient, cora, at=datetime(2026, 3, 4, 15, tzinfo=UTC), minutes=30,
                work=REVIEW)  # fmt: skip
    timelog.correct_entry(
        conn, patient_id=h.patient, entry_id=wrong.id, reason="was 10 minutes", actor=cora,
        now=NOW, span=Span(wrong.started_at, None, 10 * 60),
    )  # fmt: skip

    found = _at(conn, h.patient, "2026-03-20T00:00")
    assert found.programs == (ProgramMinutes(rpm.id, ProgramKind.RPM, 12 + 1 + 1 + 10),)
    assert _billed(conn, MARCH, h.patient) == 24
