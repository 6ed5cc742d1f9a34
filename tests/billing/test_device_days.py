"""Device days: 30-day periods from an episode's start, counted on the patient's own
calendar (midnight and daylight-saving changes in New York), only sensed readings from
the episode's devices, each day once, and a replaced device continuing the episode."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.device_days import device_periods, period_index, period_span, sensed_days
from billing.exceptions import EvidenceError
from billing.models import DeviceReading, Provenance, RpmEpisode

NEW_YORK = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def episode(start: date, *serials: str, time_zone: str = NEW_YORK) -> RpmEpisode:
    return RpmEpisode(start, time_zone, frozenset(serials or ("cuff-1",)))


def daily(first: date, days: int, serial: str = "cuff-1", hour: int = 15) -> list[DeviceReading]:
    """One sensed reading a day at ``hour`` UTC (10:00 or 11:00 in New York)."""
    midnight = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return [DeviceReading(midnight + timedelta(days=i, hours=hour), serial) for i in range(days)]


# --- periods -----------------------------------------------------------------------------


def test_period_k_covers_start_plus_30k_to_start_plus_30k_plus_29() -> None:
    start = date(2026, 1, 15)
    assert period_span(start, 0) == (date(2026, 1, 15), date(2026, 2, 13))
    assert period_span(start, 1) == (date(2026, 2, 14), date(2026, 3, 15))  # February has 28
    assert period_span(start, 2) == (date(2026, 3, 16), date(2026, 4, 14))
    assert [period_index(start, d) for d in (date(2026, 1, 14), start, date(2026, 2, 13))] == [
        -1,
        0,
        0,
    ]
    assert period_index(start, date(2026, 2, 14)) == 1


def test_the_last_local_minute_of_a_period_and_the_first_of_the_next() -> None:
    ep = episode(date(2026, 1, 15))
    readings = [
        DeviceReading(utc(2026, 2, 14, 4, 59), "cuff-1"),  # 23:59 EST on 13 February
        DeviceReading(utc(2026, 2, 14, 5, 0), "cuff-1"),  # 00:00 EST on 14 February
    ]
    first, second = device_periods(ep, readings, through=date(2026, 2, 20))
    assert first.days == (date(2026, 2, 13),)
    assert second.days == (date(2026, 2, 14),)
    assert (second.first_day, second.last_day) == (date(2026, 2, 14), date(2026, 3, 15))


def test_periods_run_to_the_one_holding_through_and_ignore_later_days() -> None:
    ep = episode(date(2026, 3, 1))
    periods = device_periods(ep, daily(date(2026, 3, 1), 40), through=date(2026, 4, 5))
    assert [(p.index, p.count) for p in periods] == [(0, 30), (1, 6)]  # 31 Mar .. 5 Apr
    assert device_periods(ep, daily(date(2026, 3, 1), 5), through=date(2026, 2, 28)) == ()


# --- the patient's calendar ------------------------------------------------------------------


def test_a_reading_counts_on_the_patients_day_not_the_utc_day() -> None:
    ep = episode(date(2026, 1, 1))
    readings = [
        DeviceReading(utc(2026, 1, 20, 4, 30), "cuff-1"),  # 23:30 on 19 January in New York
        DeviceReading(utc(2026, 1, 20, 5, 0), "cuff-1"),  # 00:00 on 20 January
    ]
    assert sensed_days(ep, readings) == {date(2026, 1, 19), date(2026, 1, 20)}
    assert sensed_days(episode(date(2026, 1, 1), time_zone="UTC"), readings) == {date(2026, 1, 20)}


def test_spring_forward_in_new_york() -> None:
    # 8 March 2026, 02:00 EST becomes 03:00 EDT: the local day is 23 hours long.
    ep = episode(date(2026, 3, 1))
    readings = [
        DeviceReading(utc(2026, 3, 8, 4, 30), "cuff-1"),  # 23:30 EST, 7 March
        DeviceReading(utc(2026, 3, 8, 5, 30), "cuff-1"),  # 00:30 EST, 8 March
        DeviceReading(utc(2026, 3, 9, 3, 30), "cuff-1"),  # 23:30 EDT, 8 March
        DeviceReading(utc(2026, 3, 9, 4, 30), "cuff-1"),  # 00:30 EDT, 9 March (23:30 if EST)
    ]
    assert sensed_days(ep, readings) == {date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)}


def test_fall_back_in_new_york() -> None:
    # 1 November 2026, 02:00 EDT becomes 01:00 EST: the local day is 25 hours long.
    ep = episode(date(2026, 10, 20))
    readings = [
        DeviceReading(utc(2026, 11, 1, 3, 30), "cuff-1"),  # 23:30 EDT, 31 October
        DeviceReading(utc(2026, 11, 1, 4, 30), "cuff-1"),  # 00:30 EDT, 1 November
        DeviceReading(utc(2026, 11, 1, 5, 30), "cuff-1"),  # 01:30 EDT, the first 01:30
        DeviceReading(utc(2026, 11, 1, 6, 30), "cuff-1"),  # 01:30 EST, the second
        DeviceReading(utc(2026, 11, 2, 4, 30), "cuff-1"),  # 23:30 EST, 1 November (00:30 if EDT)
        DeviceReading(utc(2026, 11, 2, 5, 30), "cuff-1"),  # 00:30 EST, 2 November
    ]
    assert sensed_days(ep, readings) == {date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)}


# --- what counts -----------------------------------------------------------------------------


def test_only_sensed_readings_from_the_episodes_devices_count() -> None:
    ep = episode(date(2026, 5, 1), "cuff-1")
    readings = [
        DeviceReading(utc(2026, 5, 2, 15), "cuff-1", Provenance.SELF_REPORTED),
        DeviceReading(utc(2026, 5, 3, 15), "cuff-1", Provenance.DEVICE_METADATA),
        DeviceReading(utc(2026, 5, 4, 15), "scale-of-someone-else"),
        DeviceReading(utc(2026, 4, 30, 15), "cuff-1"),  # before the episode
        DeviceReading(utc(2026, 5, 5, 15), "cuff-1"),
    ]
    assert sensed_days(ep, readings) == {date(2026, 5, 5)}


def test_self_reported_days_do_not_lift_a_period_to_a_code() -> None:
    ep = episode(date(2026, 5, 1))
    typed = [
        DeviceReading(r.measured_at, r.device_serial, Provenance.SELF_REPORTED)
        for r in daily(date(2026, 5, 2), 20)
    ]
    (period,) = device_periods(ep, [*daily(date(2026, 5, 1), 1), *typed], through=date(2026, 5, 30))
    assert (period.count, period.code, period.setup) == (1, None, False)


def test_two_devices_and_several_readings_on_one_day_count_once() -> None:
    ep = episode(date(2026, 5, 1), "cuff-1", "scale-1")
    readings = [
        DeviceReading(utc(2026, 5, 6, 12), "cuff-1"),
        DeviceReading(utc(2026, 5, 6, 13), "cuff-1"),
        DeviceReading(utc(2026, 5, 6, 22), "scale-1"),
        DeviceReading(utc(2026, 5, 7, 3, 59), "scale-1"),  # 23:59 EDT on 6 May
    ]
    (period,) = device_periods(ep, readings, through=date(2026, 5, 30))
    assert period.days == (date(2026, 5, 6),)


@pytest.mark.parametrize(
    ("days", "code"),
    [(0, None), (1, None), (2, "99445"), (15, "99445"), (16, "99454"), (30, "99454")],
)
def test_the_count_picks_the_device_code(days: int, code: str | None) -> None:
    ep = episode(date(2026, 6, 1))
    (period,) = device_periods(ep, daily(date(2026, 6, 1), days), through=date(2026, 6, 30))
    assert (period.count, period.code, period.rules_id) == (days, code, "cms-2026")


# --- the set-up, and a replaced device ----------------------------------------------------------


def test_the_set_up_is_earned_once_in_the_first_period_with_two_days() -> None:
    ep = episode(date(2026, 1, 1))
    readings = [
        *daily(date(2026, 1, 10), 1),  # period 0: 1 day
        *daily(date(2026, 2, 5), 5),  # period 1 (31 Jan .. 1 Mar): 5 days
        *daily(date(2026, 3, 2), 20),  # period 2: 20 days
    ]
    periods = device_periods(ep, readings, through=date(2026, 3, 31))
    assert [(p.count, p.code, p.setup) for p in periods] == [
        (1, None, False),
        (5, "99445", True),
        (20, "99454", False),
    ]


def test_a_replaced_device_continues_the_episode() -> None:
    # The cuff broke on day 8; its replacement has another serial. Same episode: the
    # period is not restarted, its days add up across both, and no second set-up.
    ep = episode(date(2026, 4, 1), "cuff-old", "cuff-new")
    readings = [
        *daily(date(2026, 4, 1), 8, "cuff-old"),
        *daily(date(2026, 4, 9), 12, "cuff-new"),
        *daily(date(2026, 5, 1), 16, "cuff-new"),
    ]
    first, second = device_periods(ep, readings, through=date(2026, 5, 30))
    assert (first.first_day, first.count, first.code, first.setup) == (
        date(2026, 4, 1),
        20,
        "99454",
        True,
    )
    assert (second.first_day, second.count, second.code, second.setup) == (
        date(2026, 5, 1),
        16,
        "99454",
        False,
    )


# --- refused inputs ---------------------------------------------------------------------------


def test_a_naive_time_or_an_unknown_zone_is_refused() -> None:
    with pytest.raises(EvidenceError, match="timezone-aware"):
        DeviceReading(datetime(2026, 1, 1, 12), "cuff-1")  # noqa: DTZ001
    with pytest.raises(EvidenceError, match="unknown time zone"):
        RpmEpisode(date(2026, 1, 1), "America/Gotham", frozenset({"cuff-1"}))


# --- properties ------------------------------------------------------------------------------

START = date(2026, 2, 1)
readings_strategy = st.lists(
    st.builds(
        DeviceReading,
        # hypothesis takes naive bounds and makes aware values in the given zones
        measured_at=st.datetimes(
            datetime(2026, 1, 25),  # noqa: DTZ001
            datetime(2026, 5, 10),  # noqa: DTZ001
            timezones=st.sampled_from([UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo(NEW_YORK)]),
        ),
        device_serial=st.sampled_from(["cuff-1", "scale-1", "stranger"]),
        provenance=st.sampled_from(list(Provenance)),
    ),
    max_size=120,
)


@given(readings_strategy)
def test_counting_is_a_set_of_days_split_into_periods(readings: list[DeviceReading]) -> None:
    ep = episode(START, "cuff-1", "scale-1")
    through = date(2026, 4, 30)
    periods = device_periods(ep, readings, through=through)
    expected = {
        r.measured_at.astimezone(ZoneInfo(NEW_YORK)).date()
        for r in readings
        if r.provenance is Provenance.SENSED and r.device_serial != "stranger"
    }
    expected = {d for d in expected if START <= d <= through}
    assert sorted(d for p in periods for d in p.days) == sorted(expected)
    for p in periods:
        assert all(p.first_day <= d <= p.last_day for d in p.days)
        assert (p.last_day - p.first_day).days == 29
        assert p.code == ("99454" if p.count >= 16 else "99445" if p.count >= 2 else None)
    setups = [p.index for p in periods if p.setup]
    first_with_two = next((p.index for p in periods if p.count >= 2), None)
    assert setups == ([] if first_with_two is None else [first_with_two])
    # Order and repetition change nothing.
    assert device_periods(ep, [*reversed(readings), *readings], through=through) == periods
