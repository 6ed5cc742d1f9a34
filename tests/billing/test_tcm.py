"""Transitional-care clocks: the interactive contact by the second business day after the
day of discharge (weekends and US federal holidays as observed skipped), the visit by day 7
(99496) or 14 (99495), the day of discharge being day 0, and time left at an instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.exceptions import EvidenceError
from billing.models import ContactAttempt, Discharge
from billing.rules import rules_for
from billing.tcm import (
    business_days_after,
    contact_clock,
    contact_met,
    contact_missed,
    is_business_day,
    qualifies,
    visit_clocks,
    visit_code,
    visit_missed,
)
from hub.care_programs import Complexity, DischargeSetting

RULES = rules_for(date(2026, 1, 1))
NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"


def discharge(
    day: date,
    complexity: Complexity = Complexity.HIGH,
    setting: DischargeSetting = DischargeSetting.INPATIENT,
    time_zone: str = NEW_YORK,
) -> Discharge:
    return Discharge(day, setting, complexity, time_zone)


def local(day: date, hour: int, minute: int = 0, time_zone: str = NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(time_zone))


# --- the contact deadline ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("discharged", "due", "why"),
    [
        (date(2026, 3, 4), date(2026, 3, 6), "Wednesday: Thursday, Friday"),
        (date(2026, 3, 6), date(2026, 3, 10), "Friday: Monday, Tuesday"),
        (date(2026, 3, 7), date(2026, 3, 10), "Saturday: Monday, Tuesday"),
        (date(2026, 1, 16), date(2026, 1, 21), "Friday before MLK Day: Tuesday, Wednesday"),
        (date(2026, 2, 13), date(2026, 2, 18), "Friday before Washington's Birthday"),
        (date(2026, 7, 2), date(2026, 7, 7), "4 July is a Saturday, observed Friday 3 July"),
        (date(2026, 12, 24), date(2026, 12, 29), "Thursday before Christmas on a Friday"),
    ],
)
def test_contact_due_by_the_second_business_day(discharged: date, due: date, why: str) -> None:
    assert contact_clock(discharge(discharged)).due == due, why


def test_a_sunday_holiday_is_observed_on_the_monday() -> None:
    # 4 July 2027 is a Sunday, observed Monday 5 July. No 2027 rules file yet: the 2026
    # rules are passed, the calendar is the holiday library's.
    assert not is_business_day(date(2027, 7, 5))
    assert contact_clock(discharge(date(2027, 7, 2)), RULES).due == date(2027, 7, 7)


def test_new_years_day_on_a_saturday_is_observed_on_the_31st_of_december() -> None:
    assert not is_business_day(date(2027, 12, 31))
    assert business_days_after(date(2027, 12, 30), 2) == date(2028, 1, 4)


def test_a_weekday_that_is_not_a_holiday_is_a_business_day() -> None:
    assert is_business_day(date(2026, 7, 6))
    assert not is_business_day(date(2026, 7, 4))  # the Saturday itself
    assert not is_business_day(date(2026, 11, 11))  # Veterans Day, a Wednesday


# --- the visit: day 0 is the day of discharge --------------------------------------------


@pytest.mark.parametrize(
    ("complexity", "day", "code"),
    [
        (Complexity.HIGH, -1, None),  # before the discharge
        (Complexity.HIGH, 0, "99496"),
        (Complexity.HIGH, 7, "99496"),
        (Complexity.HIGH, 8, "99495"),  # high complexity seen on days 8-14
        (Complexity.HIGH, 14, "99495"),
        (Complexity.HIGH, 15, None),
        (Complexity.MODERATE, 3, "99495"),
        (Complexity.MODERATE, 14, "99495"),
        (Complexity.MODERATE, 15, None),
    ],
)
def test_the_code_a_visit_earns(complexity: Complexity, day: int, code: str | None) -> None:
    d = discharge(date(2026, 3, 2), complexity)  # Monday 2 March is day 0
    assert visit_code(d, date(2026, 3, 2) + timedelta(days=day)) == code


def test_the_visit_deadlines_count_calendar_days_from_day_0() -> None:
    high = visit_clocks(discharge(date(2026, 3, 2)))
    assert [(c.code, c.due) for c in high] == [
        ("99496", date(2026, 3, 9)),
        ("99495", date(2026, 3, 16)),
    ]
    moderate = visit_clocks(discharge(date(2026, 3, 2), Complexity.MODERATE))
    assert [(c.code, c.due) for c in moderate] == [("99495", date(2026, 3, 16))]


def test_a_discharge_from_the_emergency_department_earns_no_tcm_code() -> None:
    d = discharge(date(2026, 3, 2), setting=DischargeSetting.EMERGENCY_DEPARTMENT)
    assert not qualifies(d)
    assert visit_code(d, date(2026, 3, 3)) is None
    a_month_later = local(date(2026, 4, 2), 9)
    assert not contact_missed(d, [], a_month_later)  # nothing to miss
    assert not visit_missed(d, None, a_month_later)
    assert qualifies(discharge(date(2026, 3, 2), setting=DischargeSetting.SKILLED_NURSING))


# --- time left at an instant -------------------------------------------------------------


def test_time_left_runs_to_the_patients_midnight_after_the_due_day() -> None:
    d = discharge(date(2026, 1, 16), time_zone=CHICAGO)  # contact due Wednesday 21 January
    clock = contact_clock(d)
    assert clock.due_at == datetime(2026, 1, 22, 6, tzinfo=UTC)  # 00:00 CST
    noon = local(date(2026, 1, 21), 12, time_zone=CHICAGO)
    assert clock.left(noon) == timedelta(hours=12)
    assert not clock.passed(noon)
    assert clock.passed(clock.due_at)
    assert clock.left(clock.due_at + timedelta(hours=3)) == timedelta(hours=-3)


def test_time_left_across_the_spring_forward_is_an_hour_short() -> None:
    d = discharge(date(2026, 3, 6))  # Friday; contact due Tuesday 10 March, after the change
    clock = contact_clock(d)
    assert clock.due_at == datetime(2026, 3, 11, 4, tzinfo=UTC)  # 00:00 EDT
    assert clock.left(local(date(2026, 3, 6), 12)) == timedelta(days=4, hours=11)


def test_time_left_needs_an_aware_instant() -> None:
    with pytest.raises(EvidenceError):
        contact_clock(discharge(date(2026, 3, 6))).left(datetime(2026, 3, 7, 12))  # noqa: DTZ001


# --- met and missed ----------------------------------------------------------------------

FRIDAY = date(2026, 3, 6)  # contact due Tuesday 10 March


@pytest.mark.parametrize(
    ("attempts", "met"),
    [
        ([], False),
        ([(date(2026, 3, 10), 16, 0, True)], True),  # reached on business day 2
        ([(date(2026, 3, 6), 18, 0, True)], True),  # reached the evening of the discharge
        ([(date(2026, 3, 10), 23, 59, True)], True),
        ([(date(2026, 3, 11), 0, 30, True)], False),  # half an hour late
        ([(date(2026, 3, 5), 16, 0, True)], False),  # before the day of discharge
        ([(date(2026, 3, 9), 10, 0, False)], False),  # one unanswered call
        ([(date(2026, 3, 9), 10, 0, False), (date(2026, 3, 10), 10, 0, False)], True),
        ([(date(2026, 3, 9), 10, 0, False), (date(2026, 3, 11), 10, 0, False)], False),
    ],
)
def test_contact_met(attempts: list[tuple[date, int, int, bool]], met: bool) -> None:
    tries = [ContactAttempt(local(day, h, m), reached) for day, h, m, reached in attempts]
    assert contact_met(discharge(FRIDAY), tries) is met


def test_contact_missed_only_once_the_deadline_has_passed_without_it() -> None:
    d = discharge(FRIDAY)
    before, after = local(date(2026, 3, 10), 17), local(date(2026, 3, 11), 9)
    assert not contact_missed(d, [], before)  # still time
    assert contact_missed(d, [], after)
    reached = [ContactAttempt(local(date(2026, 3, 9), 11), True)]
    assert not contact_missed(d, reached, after)


def test_visit_missed_only_when_no_code_is_left_to_earn() -> None:
    d = discharge(date(2026, 3, 2))  # high complexity; 99496 by 9 March, 99495 by 16 March
    day_10, day_15 = local(date(2026, 3, 12), 9), local(date(2026, 3, 17), 9)
    assert contact_clock(d).passed(day_10)
    assert visit_clocks(d)[0].passed(day_10)  # 99496 is gone ...
    assert not visit_missed(d, None, day_10)  # ... but 99495 is still open
    assert visit_missed(d, None, day_15)
    assert not visit_missed(d, date(2026, 3, 11), day_15)  # seen on day 9: 99495
    assert visit_missed(d, date(2026, 3, 17), day_15)  # seen on day 15: nothing


# --- properties --------------------------------------------------------------------------


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 20)), st.integers(1, 3))
def test_the_nth_business_day_after_has_n_business_days_up_to_it(day: date, n: int) -> None:
    due = business_days_after(day, n)
    between = [day + timedelta(days=i) for i in range(1, (due - day).days + 1)]
    assert sum(is_business_day(d) for d in between) == n
    assert is_business_day(due)
    assert (due - day).days <= n + 4  # for n <= 3: one weekend, at most two holidays
