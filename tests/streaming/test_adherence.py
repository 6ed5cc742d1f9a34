"""Non-adherence timers, driven by an injectable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure
from hub.pathways import Pathway, get_pathway
from streaming.adherence import (
    DeviceActivity,
    MeasureActivity,
    check_adherence,
    frequency_windows,
)
from streaming.exceptions import NaiveDatetimeError
from tests.streaming.series import START

PID = UUID(int=42)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime

    def advance(self, by: timedelta) -> None:
        self.now += by


def check(
    clock: Clock,
    pathway: Pathway,
    measures: dict[Measure, MeasureActivity] | None = None,
    devices: tuple[DeviceActivity, ...] = (),
    discharged_at: datetime | None = None,
) -> list[Detection]:
    return check_adherence(
        patient_id=PID,
        pathway=pathway,
        enrolled_at=START,
        now=clock.now,
        measures=measures or {},
        devices=devices,
        discharged_at=discharged_at,
    )


#: A daily measure is missing after its interval plus the pathway's grace.
ALLOWED = 24.0 + get_pathway("HTN").adherence.grace_hours


@given(st.floats(min_value=0, max_value=200))
@example(ALLOWED)
@example(ALLOWED + 0.001)
def test_a_daily_measure_is_missing_after_its_interval_and_grace(hours: float) -> None:
    last = START + 10 * DAY
    clock = Clock(last + timedelta(hours=hours))
    found = check(clock, get_pathway("HTN"), {Measure.BLOOD_PRESSURE: MeasureActivity(last)})
    assert bool(found) == (hours > ALLOWED)
    for d in found:
        assert (d.kind, d.measure, d.source) == (
            AlertKind.MISSED_READINGS,
            Measure.BLOOD_PRESSURE,
            "rule:missed_readings",
        )
        assert d.baseline == {"expected_every_hours": 24.0, "allowed_hours": ALLOWED}
        assert (d.window_start, d.window_end) == (last, clock.now)


def test_timers_follow_the_clock_per_measure() -> None:
    clock = Clock(START + 2 * DAY)
    chf = get_pathway("CHF")
    measures = {
        Measure.BODY_WEIGHT: MeasureActivity(START + 2 * DAY),
        Measure.BLOOD_PRESSURE: MeasureActivity(START + 1 * DAY),
    }
    assert check(clock, chf, measures) == []
    # blood pressure was last taken a day before weight: it is missing first
    clock.advance((ALLOWED - 24) * HOUR + timedelta(seconds=1))
    assert [d.measure for d in check(clock, chf, measures)] == [Measure.BLOOD_PRESSURE]
    clock.advance(24 * HOUR)
    assert {d.measure for d in check(clock, chf, measures)} == {
        Measure.BLOOD_PRESSURE,
        Measure.BODY_WEIGHT,
    }


def test_a_measure_never_taken_counts_from_enrolment() -> None:
    clock = Clock(START + (ALLOWED - 6) * HOUR)
    assert check(clock, get_pathway("COPD")) == []
    clock.advance(7 * HOUR)
    found = check(clock, get_pathway("COPD"))
    assert {d.measure for d in found} == {Measure.OXYGEN_SATURATION, Measure.HEART_RATE}
    assert all("since enrolment" in d.reason for d in found)


def test_measures_outside_the_pathway_are_not_expected() -> None:
    clock = Clock(START + 20 * DAY)
    measures = {
        Measure.BLOOD_PRESSURE: MeasureActivity(clock.now - HOUR),
        Measure.BODY_WEIGHT: MeasureActivity(START),
    }
    assert check(clock, get_pathway("HTN"), measures) == []


def test_a_device_never_activated_within_3_days() -> None:
    devices = (
        DeviceActivity(1, first_reading_at=None),
        DeviceActivity(2, first_reading_at=START + DAY),
        DeviceActivity(3, first_reading_at=None, assigned_at=START + 2 * DAY),
    )
    measures = {Measure.BLOOD_PRESSURE: MeasureActivity(START + 3 * DAY)}
    clock = Clock(START + 3 * DAY)
    assert check(clock, get_pathway("HTN"), measures, devices) == []
    clock.advance(timedelta(seconds=1))
    (d,) = check(clock, get_pathway("HTN"), measures, devices)
    assert (d.kind, d.measure, d.observed["device_id"]) == (
        AlertKind.DEVICE_NEVER_ACTIVE,
        None,
        1.0,
    )
    assert d.severity is Severity.MEDIUM
    clock.advance(2 * DAY)
    found = check(
        clock, get_pathway("HTN"), {Measure.BLOOD_PRESSURE: MeasureActivity(clock.now)}, devices
    )
    assert sorted(d.observed["device_id"] for d in found) == [1.0, 3.0]


@pytest.mark.parametrize(
    ("recent", "previous", "expected"),
    [
        (6, 14, False),  # 0.86/day vs 1/day
        (3, 14, False),  # 0.43/day: above 0.4 times 1/day
        (2, 14, True),  # 0.29/day: below
        (7, 14, False),
        (3, 20, True),  # 0.43/day vs 1.43/day
        (0, 9, False),  # too few earlier readings to judge
    ],
)
def test_frequency_drop(recent: int, previous: int, expected: bool) -> None:
    clock = Clock(START + 60 * DAY)
    pathway = get_pathway("HTN")
    measures = {Measure.BLOOD_PRESSURE: MeasureActivity(clock.now - HOUR, recent, previous)}
    found = [d for d in check(clock, pathway, measures) if d.kind is AlertKind.FREQUENCY_DROP]
    assert bool(found) == expected
    if found:
        assert found[0].observed == {"recent_per_day": round(recent / 7, 3)}
        assert found[0].baseline == {"previous_per_day": round(previous / 14, 3), "ratio": 0.4}


def test_frequency_drop_waits_for_both_windows() -> None:
    measures = {Measure.BLOOD_PRESSURE: MeasureActivity(START + 20 * DAY, 0, 14)}
    clock = Clock(START + 21 * DAY - HOUR)
    assert not any(
        d.kind is AlertKind.FREQUENCY_DROP for d in check(clock, get_pathway("HTN"), measures)
    )
    clock.advance(HOUR)
    drops = [
        d for d in check(clock, get_pathway("HTN"), measures) if d.kind is AlertKind.FREQUENCY_DROP
    ]
    assert len(drops) == 1
    (recent, previous) = frequency_windows(get_pathway("HTN"), clock.now)
    assert recent == (clock.now - 7 * DAY, clock.now)
    assert previous == (clock.now - 21 * DAY, clock.now - 7 * DAY)
    assert drops[0].window_start == previous[0]


def test_post_discharge_window_raises_severity() -> None:
    clock = Clock(START + 5 * DAY)
    (inside,) = check(clock, get_pathway("HTN"), discharged_at=START)
    assert inside.severity is Severity.MEDIUM
    clock.advance(30 * DAY)
    (outside,) = check(clock, get_pathway("HTN"), discharged_at=START)
    assert outside.severity is Severity.LOW


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        check(Clock(datetime(2025, 1, 1)), get_pathway("HTN"))  # noqa: DTZ001
    with pytest.raises(NaiveDatetimeError):
        check(
            Clock(START + DAY),
            get_pathway("HTN"),
            {Measure.BLOOD_PRESSURE: MeasureActivity(datetime(2025, 1, 1))},  # noqa: DTZ001
        )
