"""The per-patient engine: routing, one detection per episode, late readings."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from hub.alerting import AlertKind, Detection, Severity, StreamReading
from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.detectors import HeartFailureScore, RespiratoryScore
from streaming.engine import LATE, PatientMonitor, state_size
from streaming.exceptions import ReadingError, StreamingError
from tests.streaming.series import at, healthy, weight_creep

PID = UUID("7d1c7f52-8a43-4c38-9d0f-3f7e1c5a9b21")
CHF = get_pathway("CHF")


def reading(
    measure: Measure,
    measured: datetime,
    value: float,
    value2: float | None = None,
    *,
    received: datetime | None = None,
    device: int = 1,
) -> StreamReading:
    return StreamReading(PID, device, measure, measured, value, value2, received or measured)


def weight(day: float, kg: float, received: datetime | None = None) -> StreamReading:
    return reading(Measure.BODY_WEIGHT, at(day), kg, received=received)


def bp(day: float, sys_: float, dia: float, received: datetime | None = None) -> StreamReading:
    return reading(Measure.BLOOD_PRESSURE, at(day), sys_, dia, received=received)


def feed(monitor: PatientMonitor, readings: list[StreamReading]) -> list[Detection]:
    return [d for r in readings for d in monitor.process(r)]


def creep_readings(kg_per_day: float = 0.3, creep_days: int = 14) -> list[StreamReading]:
    series = weight_creep(flat_days=21, creep_days=creep_days, kg_per_day=kg_per_day)
    return [reading(Measure.BODY_WEIGHT, x.at, x.value) for x in series]


def test_detections_carry_their_reasons() -> None:
    monitor = PatientMonitor(PID, CHF)
    (d,) = monitor.process(bp(0, 205, 95))  # beyond the at-once limit: no repeat needed
    assert d.patient_id == PID
    assert d.kind is AlertKind.BP_HIGH
    assert d.severity is Severity.CRITICAL
    assert d.source == "rule:bp_high"
    assert d.measure is Measure.BLOOD_PRESSURE
    assert d.observed == {"systolic": 205, "diastolic": 95}
    assert d.baseline == {"systolic_high": 180.0, "diastolic_high": 120.0}
    assert d.window_start == d.window_end == at(0)
    assert d.reason == "Blood pressure 205/95 mmHg is at or above the crisis limit 180/120 mmHg."


def test_one_detection_per_kind_while_the_episode_lasts() -> None:
    monitor = PatientMonitor(PID, CHF)
    assert len(monitor.process(bp(0, 205, 100))) == 1
    assert monitor.process(bp(1, 210, 110)) == []
    assert monitor.open_kinds == {AlertKind.BP_HIGH: Severity.CRITICAL}
    for day in (2, 3):
        assert monitor.process(bp(day, 135, 85)) == []
    assert monitor.process(bp(4, 208, 100)) == []  # calm streak broken: same episode
    for day in (5, 6, 7):
        monitor.process(bp(day, 135, 85))
    assert monitor.open_kinds == {}
    assert [d.kind for d in monitor.process(bp(8, 201, 90))] == [AlertKind.BP_HIGH]


def test_a_slow_creep_is_reported_by_the_model_then_escalated_by_the_rule() -> None:
    monitor = PatientMonitor(PID, CHF)
    found = feed(monitor, creep_readings(kg_per_day=0.3, creep_days=14))
    assert [(d.source, d.severity) for d in found] == [
        ("model:heart_failure_score", Severity.MEDIUM),
        ("rule:weight_gain_7d", Severity.HIGH),
    ]
    model, rule = found
    assert model.window_end < rule.window_end
    # Within ten days of a 0.3 kg/day creep, about 3 kg above the baseline.
    assert model.window_end - at(21) <= timedelta(days=10)
    assert model.observed["weight_change"] < 3.2
    assert model.window_start <= model.window_end
    assert "weight" in model.reason
    assert "spreads" in model.reason


def test_the_guideline_rule_raises_the_scores_alert_but_opens_none_of_its_own() -> None:
    """Two heavy mornings (a coat, a weekend) break the 2 kg / 72 h rule, confirmed."""
    days = [80.0 + (0.2 if d % 2 else -0.2) for d in range(30)] + [82.4, 82.5, 80.1, 80.0]
    readings = [weight(d, kg) for d, kg in enumerate(days)]
    assert feed(PatientMonitor(PID, CHF), readings) == []
    opening = CHF.with_overrides({"heart_failure.rule_opens": 1})
    found = feed(PatientMonitor(PID, opening), readings)
    assert [(d.source, d.severity) for d in found] == [("rule:weight_gain_72h", Severity.HIGH)]


def plateau(first_day: int, days: int, kg: float) -> list[StreamReading]:
    return [weight(first_day + d, kg + (0.15 if d % 2 else -0.15)) for d in range(days)]


def test_the_baseline_is_frozen_while_a_gain_is_suspected() -> None:
    monitor = PatientMonitor(PID, CHF)
    score = monitor.detectors(Measure.BODY_WEIGHT)[1]
    assert isinstance(score, HeartFailureScore)
    levels = []
    for r in creep_readings(kg_per_day=0.3, creep_days=14):
        monitor.process(r)
        if score.episode_active:
            levels.append(score._base[0].level)
    hold = CHF.heart_failure.hold_days
    assert len(levels) > hold + 2
    young = levels[: hold + 1]  # one reading a day: the episode's first days
    assert max(young) - min(young) < 1e-9  # frozen while the episode is young
    assert levels[0] < 80.6  # the creep (up to 84.2 kg) was not learned
    assert levels[-1] > levels[0]  # then the baseline follows a level that stays
    # back to the old weight: the episode ends, and the monitor says so
    feed(monitor, plateau(60, 10, 80.0))
    assert not score.episode_active
    assert AlertKind.WEIGHT_GAIN not in monitor.open_kinds
    (closure,) = monitor.pop_closures()
    assert closure.kind is AlertKind.WEIGHT_GAIN
    assert "back near the personal baseline" in closure.reason


def test_a_settled_new_weight_becomes_normal_and_a_later_rise_alerts_again() -> None:
    """Issue #15, defect 1: an episode never held open by the low point it opened at."""
    monitor = PatientMonitor(PID, CHF)
    first = feed(monitor, creep_readings(kg_per_day=0.3, creep_days=10))  # 80 -> 83 kg
    assert [d.kind for d in first][:1] == [AlertKind.WEIGHT_GAIN]
    feed(monitor, plateau(31, 45, 83.0))  # the patient stays at 83 kg
    assert AlertKind.WEIGHT_GAIN not in monitor.open_kinds
    assert [c.kind for c in monitor.pop_closures()] == [AlertKind.WEIGHT_GAIN]
    second = feed(monitor, [weight(76 + d, 83.0 + 0.3 * d) for d in range(1, 12)])
    assert [d.kind for d in second][:1] == [AlertKind.WEIGHT_GAIN]


def test_resolve_accepts_the_current_level() -> None:
    monitor = PatientMonitor(PID, CHF)
    feed(monitor, creep_readings())
    assert AlertKind.WEIGHT_GAIN in monitor.open_kinds
    monitor.resolve(AlertKind.WEIGHT_GAIN)
    assert monitor.open_kinds == {}
    assert not any(d.episode_active for d in monitor.detectors(Measure.BODY_WEIGHT))


def test_an_out_of_order_reading_learns_nothing_and_is_marked_late() -> None:
    monitor = PatientMonitor(PID, CHF)
    feed(monitor, [bp(day, 130, 80) for day in range(5)])
    before = pickle.dumps(monitor)
    (d,) = monitor.process(bp(3.9, 210, 100, received=at(4, 1)))  # 3.4 h late: not stale
    assert d.source == "rule:bp_high" + LATE
    assert d.severity is Severity.CRITICAL
    assert "Reported late" in d.reason
    assert pickle.dumps(monitor) == before  # no episode, no position change
    stale = monitor.process(bp(1, 212, 100, received=at(4, 2)))
    assert [(d.source, d.severity) for d in stale] == [("rule:bp_high:late", Severity.HIGH)]
    assert monitor.latest_measured_at(Measure.BLOOD_PRESSURE) == at(4)


def test_an_out_of_order_reading_does_not_feed_the_learned_models() -> None:
    monitor = PatientMonitor(PID, CHF)
    feed(monitor, [weight(day, 80.0) for day in range(10)])
    before = pickle.dumps(monitor)
    assert monitor.process(weight(5.5, 84.0, received=at(10, 1))) == []  # no rule judges it
    assert pickle.dumps(monitor) == before


def test_a_late_reading_for_an_open_kind_is_not_reported_again() -> None:
    monitor = PatientMonitor(PID, CHF)
    feed(monitor, [bp(day, 130, 80) for day in range(3)] + [bp(3, 205, 90)])
    assert monitor.process(bp(1.5, 215, 100, received=at(3, 2))) == []


def test_a_stale_reading_is_late_and_one_level_lower() -> None:
    monitor = PatientMonitor(PID, CHF)
    (d,) = monitor.process(bp(0, 205, 95, received=at(2)))
    assert d.source == "rule:bp_high:late"
    assert d.severity is Severity.HIGH
    assert "measured 48 h before it arrived" in d.reason
    # the episode is open: the next fresh reading escalates to full severity
    (fresh,) = monitor.process(bp(2, 206, 95))
    assert (fresh.source, fresh.severity) == ("rule:bp_high", Severity.CRITICAL)


def test_heart_rate_from_cuff_and_oximeter_share_one_baseline() -> None:
    monitor = PatientMonitor(PID, get_pathway("COPD"))
    hr = [
        reading(Measure.HEART_RATE, at(day, hour), 70, device=device)
        for day in range(3)
        for hour, device in ((0, 1), (1, 2))
    ]
    assert feed(monitor, hr) == []
    hr_detectors = monitor.detectors(Measure.HEART_RATE)
    assert len(hr_detectors) == 3
    (joint,) = [d for d in monitor.detectors(Measure.OXYGEN_SATURATION) if d in hr_detectors]
    assert isinstance(joint, RespiratoryScore)  # one instance, fed both measures
    # a single high reading waits for its repeat ...
    assert monitor.process(reading(Measure.HEART_RATE, at(3), 131, device=2)) == []
    (d,) = monitor.process(reading(Measure.HEART_RATE, at(3, 1), 128, device=1))  # confirmed
    assert d.kind is AlertKind.HR_HIGH
    assert d.severity is CHF.limits[Measure.HEART_RATE].severity("high")


def test_a_joint_detector_hears_each_reading_once() -> None:
    monitor = PatientMonitor(PID, CHF)
    for measure in (Measure.HEART_RATE, Measure.OXYGEN_SATURATION, Measure.BODY_WEIGHT):
        ds = monitor.detectors(measure)
        assert len({id(d) for d in ds}) == len(ds)
    (score,) = [d for d in monitor.detectors(Measure.HEART_RATE) if d.measures]
    assert score in monitor.detectors(Measure.BODY_WEIGHT)


def test_spo2_low_and_drop_are_separate_kinds() -> None:
    monitor = PatientMonitor(PID, get_pathway("default"))
    spo2 = [reading(Measure.OXYGEN_SATURATION, at(d), 95) for d in range(10)]
    feed(monitor, spo2)
    found = feed(monitor, [reading(Measure.OXYGEN_SATURATION, at(10 + d), 84) for d in range(2)])
    assert sorted({d.kind for d in found}) == [AlertKind.SPO2_DROP, AlertKind.SPO2_LOW]


def test_pickle_round_trip_mid_stream_gives_the_same_detections() -> None:
    readings = creep_readings() + [bp(d, 150 + d, 90) for d in range(40)]
    readings.sort(key=lambda r: r.measured_at)
    live = PatientMonitor(PID, CHF)
    feed(live, readings[:30])
    restored = pickle.loads(pickle.dumps(live))  # noqa: S301 (our own bytes)
    assert feed(restored, readings[30:]) == feed(live, readings[30:])


def test_state_size_per_measure_stays_small() -> None:
    monitor = PatientMonitor(PID, CHF)
    empty = state_size(monitor)
    for measure in Measure:
        for x in healthy(measure, seed=4, days=365):
            monitor.process(reading(measure, x.at, x.value, x.value2))
    assert (state_size(monitor) - empty) <= 2048 * len(Measure)
    for measure in Measure:
        assert len(pickle.dumps(monitor.detectors(measure))) <= 2048


def test_a_shipped_pathway_is_checkpointed_by_name_and_an_overridden_one_whole() -> None:
    shipped = pickle.dumps(CHF)
    assert pickle.loads(shipped) is CHF  # noqa: S301 (our own bytes)
    assert len(shipped) < 100
    custom = CHF.with_overrides({"systolic_low": 95})
    restored = pickle.loads(pickle.dumps(custom))  # noqa: S301 (our own bytes)
    assert restored == custom
    assert restored.limits[Measure.BLOOD_PRESSURE]["systolic.low"] == 95


def test_foreign_or_naive_readings_are_refused() -> None:
    monitor = PatientMonitor(PID, CHF)
    other = StreamReading(UUID(int=5), 1, Measure.BODY_WEIGHT, at(0), 80, None, at(0))
    with pytest.raises(ReadingError):
        monitor.process(other)
    naive = at(0).replace(tzinfo=None)
    with pytest.raises(StreamingError):
        monitor.process(StreamReading(PID, 1, Measure.BODY_WEIGHT, naive, 80, None, at(0)))


def test_the_daily_weight_rules_use_the_patients_own_days() -> None:
    """Two weighings on one New York evening, either side of midnight UTC, are one day."""
    ny = ZoneInfo("America/New_York")

    def run(timezone: str) -> list[tuple[str, str]]:
        # The guideline rule opening alerts of its own, as a pathway may ask.
        pathway = get_pathway("CHF").with_overrides({"heart_failure.rule_opens": 1})
        monitor = PatientMonitor(UUID(int=5), pathway, timezone)
        found: list[Detection] = []
        for t, kg in [(datetime(2026, 1, d, 7, tzinfo=ny), 80.0) for d in range(1, 8)] + [
            (datetime(2026, 1, 8, 18, 50, tzinfo=ny), 82.4),  # 23:50 UTC
            (datetime(2026, 1, 8, 19, 20, tzinfo=ny), 82.5),  # 00:20 UTC, the next UTC day
        ]:
            reading = StreamReading(UUID(int=5), 1, Measure.BODY_WEIGHT, t, kg, None, t)
            found += monitor.process(reading)
            monitor = pickle.loads(pickle.dumps(monitor))  # noqa: S301 - as a checkpoint does
        return [(d.source, d.severity.value) for d in found]

    # One weighing day so far: the gain waits for tomorrow's weight to confirm it.
    assert run("America/New_York") == []
    # Counted in UTC days the second weighing would have "confirmed" it.
    assert run("UTC") == [("rule:weight_gain_72h", "high")]
