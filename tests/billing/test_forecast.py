"""The forecast, with hand-worked numbers: an open 30-day period's days so far, days left
(today while it has no data), which device codes are still reachable and what they need;
a month's minutes, the minutes to the next code, and a missing interactive contact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.device_days import device_periods
from billing.exceptions import EvidenceError
from billing.forecast import month_forecast, period_forecast
from billing.models import DeviceReading, RpmEpisode, TimeEntry
from hub.care_programs import ProgramKind

START = date(2026, 3, 1)  # period 0 is 1-30 March, period 1 31 March - 29 April
EPISODE = RpmEpisode(START, "America/New_York", frozenset({"cuff-1"}))


def on(*days: date) -> list[DeviceReading]:
    """A sensed reading at 15:00 UTC (10:00 or 11:00 in New York) on each day."""
    return [DeviceReading(datetime(d.year, d.month, d.day, 15, tzinfo=UTC), "cuff-1") for d in days]


def march(*days: int) -> list[DeviceReading]:
    return on(*(date(2026, 3, d) for d in days))


# --- the open period ---------------------------------------------------------------------


def test_needs_6_more_days_in_8() -> None:
    # 10 days with data by 22 March; today, 23 March, has none yet: 23..30 March are left.
    ten = march(1, 2, 3, 5, 8, 9, 12, 15, 18, 21)
    f = period_forecast(EPISODE, ten, today=date(2026, 3, 23))
    assert (f.period.count, f.days_left) == (10, 8)
    assert (f.tier("99454").needed, f.tier("99454").reachable) == (6, True)
    assert (f.tier("99445").needed, f.tier("99445").reached) == (0, True)
    assert f.text == "needs 6 more days in 8 for 99454 (99445 reached)"


def test_today_with_data_is_counted_and_not_left() -> None:
    eleven = march(1, 2, 3, 5, 8, 9, 12, 15, 18, 21, 23)
    f = period_forecast(EPISODE, eleven, today=date(2026, 3, 23))
    assert (f.period.count, f.days_left) == (11, 7)
    assert f.text == "needs 5 more days in 7 for 99454 (99445 reached)"


def test_16_out_of_reach_but_2_reached() -> None:
    f = period_forecast(EPISODE, march(2, 4, 6, 8, 10), today=date(2026, 3, 25))
    assert (f.period.count, f.days_left) == (5, 6)  # 5 + 6 = 11 < 16
    assert not f.tier("99454").reachable
    assert f.tier("99445").reached
    assert f.text == "5 days: 99445 reached; 99454 out of reach"


def test_only_2_still_reachable_on_the_last_day() -> None:
    f = period_forecast(EPISODE, march(4), today=date(2026, 3, 30))
    assert (f.period.count, f.days_left) == (1, 1)
    assert [(t.code, t.needed, t.reachable) for t in f.tiers] == [
        ("99454", 15, False),
        ("99445", 1, True),
    ]
    assert f.text == "needs 1 more day in 1 for 99445"


def test_nothing_reachable() -> None:
    f = period_forecast(EPISODE, [], today=date(2026, 3, 30))
    assert f.text == "0 days: no device code can be reached this period"
    assert not any(t.reachable for t in f.tiers)


def test_the_first_day_and_a_reached_period() -> None:
    assert period_forecast(EPISODE, [], today=START).text == "needs 16 more days in 30 for 99454"
    full = period_forecast(EPISODE, march(*range(1, 17)), today=date(2026, 3, 20))
    assert full.text == "16 days: 99454 reached"
    assert all(t.reached for t in full.tiers)


def test_the_forecast_is_for_the_period_holding_today() -> None:
    readings = [*march(*range(1, 31)), *on(date(2026, 4, 1), date(2026, 4, 2))]
    f = period_forecast(EPISODE, readings, today=date(2026, 4, 5))
    assert (f.period.index, f.period.first_day, f.period.last_day) == (
        1,
        date(2026, 3, 31),
        date(2026, 4, 29),
    )
    assert (f.period.count, f.days_left) == (2, 25)
    assert f.text == "needs 14 more days in 25 for 99454 (99445 reached)"


def test_days_after_today_are_not_counted() -> None:
    f = period_forecast(EPISODE, march(1, 2, 25, 26), today=date(2026, 3, 10))
    assert f.period.days == (date(2026, 3, 1), date(2026, 3, 2))


def test_today_before_the_episode_is_refused() -> None:
    with pytest.raises(EvidenceError):
        period_forecast(EPISODE, [], today=date(2026, 2, 28))


# --- the month's time --------------------------------------------------------------------

APRIL = datetime(2026, 4, 3, 15, tzinfo=UTC)
NO_CONTACT = "no interactive contact yet (nothing billable without one)"


def minutes(
    total: int, *, interactive: bool, program: ProgramKind = ProgramKind.RPM
) -> list[TimeEntry]:
    return [TimeEntry("e1", program, "rn-2", APRIL, interactive, minutes=total)]


@pytest.mark.parametrize(
    ("total", "interactive", "next_code", "to_next", "text"),
    [
        (0, False, "99470", 10, f"0 min, {NO_CONTACT}; 10 more for 99470"),
        (5, True, "99470", 5, "5 min; 5 more for 99470"),
        (14, False, "99457", 6, f"14 min, {NO_CONTACT}; 6 more for 99457"),
        (14, True, "99457", 6, "14 min: 99470; 6 more for 99457"),
        (20, True, "99458", 20, "20 min: 99457; 20 more for 99458"),
        (45, True, "99458", 15, "45 min: 99457 + 99458; 15 more for 99458"),
        (75, True, None, None, "75 min: 99457 + 99458x2; the most this month can bill"),
    ],
)
def test_rpm_month_outlooks(
    total: int, interactive: bool, next_code: str | None, to_next: int | None, text: str
) -> None:
    f = month_forecast(
        minutes(total, interactive=interactive),
        program=ProgramKind.RPM,
        today=date(2026, 4, 20),
        time_zone="America/New_York",
    )
    assert (f.minutes, f.next_code, f.minutes_to_next, f.interactive_missing) == (
        total,
        next_code,
        to_next,
        not interactive,
    )
    assert f.text == text


def test_ccm_month_outlook_and_last_months_minutes() -> None:
    entries = [
        *minutes(25, interactive=True, program=ProgramKind.CCM),
        TimeEntry("march", ProgramKind.CCM, "rn-2", APRIL - timedelta(days=10), True, minutes=40),
    ]
    f = month_forecast(entries, program=ProgramKind.CCM, today=date(2026, 4, 30), time_zone="UTC")
    assert (f.minutes, [str(line) for line in f.lines]) == (25, ["99490"])
    assert (f.next_code, f.minutes_to_next) == ("99439", 15)
    assert f.text == "25 min: 99490; 15 more for 99439"


# --- property: reachable means reachable -------------------------------------------------


@given(
    st.sets(st.integers(min_value=0, max_value=29)),
    st.integers(min_value=0, max_value=29),
)
def test_filling_every_day_left_reaches_exactly_the_reachable_tiers(
    with_data: set[int], today_offset: int
) -> None:
    today = START + timedelta(days=today_offset)
    readings = on(*(START + timedelta(days=i) for i in with_data))
    f = period_forecast(EPISODE, readings, today=today)
    rest = [today + timedelta(days=i) for i in range((f.period.last_day - today).days + 1)]
    (best,) = device_periods(EPISODE, [*readings, *on(*rest)], through=f.period.last_day)
    assert best.count == f.period.count + f.days_left
    for tier in f.tiers:
        assert tier.reachable is (best.count >= tier.min_days)
        assert tier.needed == max(0, tier.min_days - f.period.count)
