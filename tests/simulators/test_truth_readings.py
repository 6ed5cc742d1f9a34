"""The v2 generator's readings show what its ground truth says (simulated data).

Sizes are checked in aggregate: every reading carries the patient's own noise,
weekly and seasonal swings and overlapping confounders.
"""

from __future__ import annotations

import collections
import itertools
import math
import statistics
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.alerting import StreamReading
from hub.domain import DeviceKind, Measure
from ingest.validation import Validator
from simulators.groundtruth import TruthCohort, sim_events, to_data_point
from simulators.gt_models import TruthEvent, TruthKind
from simulators.truth.readings import LB_KG, to_scale
from tests.simulators.conftest import V2_START, find_cohort, has_lb_and_new_scale

Readings = dict[int, list[StreamReading]]
Series = list[tuple[float, float]]
DAY = timedelta(days=1)
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5))


def _t(at: datetime) -> float:
    return (at - V2_START) / DAY


def _weights(readings: list[StreamReading]) -> Series:
    return sorted(
        (_t(r.measured_at), r.value) for r in readings if r.measure is Measure.BODY_WEIGHT
    )


def _median(ws: Series, a: float, b: float) -> float | None:
    inside = [w for t, w in ws if a <= t < b]
    return statistics.median(inside) if inside else None


def _span(e: TruthEvent) -> tuple[float, float]:
    return _t(e.onset), _t(e.event_time)


def test_decompensation_weight_follows_its_size_and_shape(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    reached: list[float] = []
    halfway: dict[str, list[float]] = collections.defaultdict(list)
    for e in v2_cohort.truth.of_kind(TruthKind.DECOMPENSATION):
        gain = e.params["gain_kg"]
        if gain < 2.0 or e.params["silent_days"] > 0:
            continue
        ws, (onset, admitted) = _weights(v2_readings[e.patient_index]), _span(e)
        mid = (onset + admitted) / 2.0
        before, mid_w = _median(ws, onset - 5.0, onset), _median(ws, mid - 1.0, mid + 1.0)
        last = _median(ws, admitted - 1.5, admitted)
        if before is None or mid_w is None or last is None:
            continue
        reached.append((last - before) / gain)
        halfway[e.variant or ""].append((mid_w - before) / gain)
    assert len(reached) >= 12
    assert 0.7 <= statistics.median(reached) <= 1.3
    # Accelerating: little of the gain by halfway; steady: about half.
    assert len(halfway["accelerating"]) >= 4
    assert len(halfway["steady"]) >= 4
    accelerating = statistics.median(halfway["accelerating"])
    assert accelerating < statistics.median(halfway["steady"]) - 0.15


def test_readings_thin_out_before_admission_when_marked(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    def per_day(index: int, a: float, b: float) -> float:
        return sum(a <= _t(r.measured_at) < b for r in v2_readings[index]) / (b - a)

    silent: list[tuple[float, float]] = []
    other: list[tuple[float, float]] = []
    for e in v2_cohort.truth.of_kind(TruthKind.DECOMPENSATION):
        onset, admitted = _span(e)
        usual = per_day(e.patient_index, onset - 14.0, onset)
        days = e.params["silent_days"]
        if days > 0:
            silent.append((per_day(e.patient_index, admitted - days, admitted), usual))
        else:
            other.append((per_day(e.patient_index, admitted - 2.0, admitted), usual))
    assert len(silent) >= 10
    assert sum(a for a, _ in silent) / sum(b for _, b in silent) < 0.4
    assert sum(a for a, _ in other) / sum(b for _, b in other) > 0.7


def test_holiday_gains_show_in_the_weights(v2_cohort: TruthCohort, v2_readings: Readings) -> None:
    decompensations = v2_cohort.truth.of_kind(TruthKind.DECOMPENSATION)
    ratios = []
    for h in v2_cohort.truth.of_kind(TruthKind.HOLIDAY_GAIN):
        onset, peak = _span(h)
        if any(
            d.patient_index == h.patient_index and abs(_t(d.onset) - onset) < 60.0
            for d in decompensations
        ):
            continue
        ws = _weights(v2_readings[h.patient_index])
        before, top = _median(ws, onset - 7.0, onset), _median(ws, peak - 1.0, peak + 2.0)
        if before is not None and top is not None:
            ratios.append((top - before) / h.params["gain_kg"])
    assert len(ratios) >= 50
    assert 0.6 <= statistics.median(ratios) <= 1.3


def test_clothed_weighings_add_their_delta(v2_cohort: TruthCohort, v2_readings: Readings) -> None:
    errors = []
    for e in v2_cohort.truth.of_kind(TruthKind.CLOTHED_WEIGHING):
        onset, end = _span(e)
        mornings = [(t, w) for t, w in _weights(v2_readings[e.patient_index]) if t % 1.0 < 0.5]
        inside = [w for t, w in mornings if onset <= t < end]
        around = [w for t, w in mornings if onset - 3.0 <= t < onset or end <= t < end + 3.0]
        if inside and around:
            errors.append(statistics.mean(inside) - statistics.mean(around) - e.params["delta_kg"])
    assert len(errors) >= 100
    assert abs(statistics.mean(errors)) < 0.2


def test_second_weighings_are_later_in_the_day_and_heavier(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    events = v2_cohort.truth.of_kind(TruthKind.SECOND_WEIGHING)
    assert len(events) >= 300
    differences = []
    for e in events[:1500]:
        ws = _weights(v2_readings[e.patient_index])
        at = _t(e.event_time)
        assert [w for t, w in ws if t == at]  # the reading is there
        earlier = [w for t, w in ws if math.floor(at) <= t < at]
        if earlier:
            differences.append(next(w for t, w in ws if t == at) - earlier[0])
    assert 0.7 <= statistics.mean(differences) <= 1.3


def test_some_scales_report_pounds_in_02_lb_steps(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    with_scale = [p for p in v2_cohort.patients if DeviceKind.SCALE in p.devices]
    lb = [p for p in with_scale if p.unit_of(p.devices.index(DeviceKind.SCALE)) == "lb"]
    assert 0.10 <= len(lb) / len(with_scale) <= 0.30
    seen: collections.Counter[str] = collections.Counter()
    for p in with_scale:
        for r in v2_readings[p.index]:
            if r.measure is not Measure.BODY_WEIGHT:
                continue
            unit = v2_cohort.device_of(r).unit
            seen[unit] += 1
            if unit == "lb":
                steps = round(r.value / LB_KG / 0.2)
                assert r.value == (2.0 * steps) / 10.0 * LB_KG
            else:
                assert r.value == round(r.value, 1)
    assert seen["lb"] > 5_000
    assert seen["kg"] > 5_000


def _round_trip(reading: StreamReading, unit: str) -> tuple[dict[str, object], float, str]:
    point = to_data_point(reading, header_id="h-1", source_name="SimScale", weight_unit=unit)
    parsed = VALIDATOR.parse(orjson.dumps(point), now=reading.measured_at + DAY)
    assert parsed.rejections == ()
    [(_, stored)] = parsed.points
    return point["body"]["body_weight"], stored.value, stored.original_unit


def test_an_lb_scales_data_point_validates_and_normalises_to_the_same_kg(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    checked = 0
    for p in v2_cohort.patients:
        for r in v2_readings[p.index]:
            if r.measure is Measure.BODY_WEIGHT and v2_cohort.device_of(r).unit == "lb":
                sent, kg, unit = _round_trip(r, "lb")
                assert sent["unit"] == "lb"
                assert unit == "lb"
                assert kg == r.value
                checked += 1
        if checked > 500:
            break
    assert checked > 500


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=30.0, max_value=250.0), st.booleans())
def test_any_weight_a_scale_shows_comes_back_from_the_hub_unchanged(kg: float, lb: bool) -> None:
    shown = float(to_scale(np.array([kg]), np.array([lb]))[0])
    assert abs(shown - kg) <= (0.2 * LB_KG if lb else 0.1) / 2 + 1e-9
    at = V2_START + timedelta(hours=7)
    reading = StreamReading(UUID(int=1), 1, Measure.BODY_WEIGHT, at, shown, None, at)
    _, stored, unit = _round_trip(reading, "lb" if lb else "kg")
    assert stored == shown
    assert unit == ("lb" if lb else "kg")


def test_a_replaced_scale_sends_from_its_own_device_with_its_bias(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    events = v2_cohort.truth.of_kind(TruthKind.SCALE_REPLACED)
    assert len(events) >= 10
    errors = []
    for e in events:
        i, at = e.patient_index, _t(e.onset)
        devices = v2_cohort.devices(i)
        new, old = devices[int(e.params["device_slot"])], devices[int(e.params["replaces_slot"])]
        assert new.kind is old.kind is DeviceKind.SCALE
        assert new.serial_code == "SC2"
        assert new.active_from == e.onset == old.active_until
        assert new.unit == ("lb" if e.params["unit_lb"] else "kg")
        mine = [r for r in v2_readings[i] if r.measure is Measure.BODY_WEIGHT]
        after = [(_t(r.measured_at), r.value) for r in mine if r.device_id == new.device_id]
        before = [(_t(r.measured_at), r.value) for r in mine if r.device_id == old.device_id]
        assert all(t >= at for t, _ in after)
        assert all(t < at for t, _ in before)
        first, last = _median(after, at, at + 10.0), _median(before, at - 10.0, at)
        if first is not None and last is not None:
            errors.append(first - last - e.params["offset_kg"])
    assert len(errors) >= 8
    assert abs(statistics.mean(errors)) < 0.4


def test_mqtt_messages_name_the_new_scale_and_carry_pounds() -> None:
    c = find_cohort(8, start=V2_START, days=120, want=has_lb_and_new_scale)
    replaced = c.truth.of_kind(TruthKind.SCALE_REPLACED)[0]
    new = c.devices(replaced.patient_index)[int(replaced.params["device_slot"])]
    lb_serials = {
        d.serial("gt", p.index) for p in c.patients for d in c.devices(p.index) if d.unit == "lb"
    }
    serials: set[str] = set()
    units: collections.Counter[str] = collections.Counter()
    for e in sim_events(c, prefix="gt"):
        serials.add(e.device_serial)
        body = orjson.loads(e.payload)["body"]
        if "body_weight" in body:
            units[body["body_weight"]["unit"]] += 1
            assert (body["body_weight"]["unit"] == "lb") == (e.device_serial in lb_serials)
    assert new.serial("gt", replaced.patient_index) in serials
    assert units["lb"] > 0


def _first_per_day(readings: list[StreamReading], measure: Measure) -> dict[datetime, float]:
    out: dict[datetime, tuple[datetime, float]] = {}
    for r in readings:
        day = r.measured_at.replace(hour=0, minute=0, second=0)
        if r.measure is measure and (day not in out or r.measured_at < out[day][0]):
            out[day] = (r.measured_at, r.value)
    return {d: v for d, (_, v) in out.items()}


def test_weight_is_up_at_weekends_bp_on_mondays_and_weekends_are_missed(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    weight: dict[int, list[float]] = collections.defaultdict(list)
    days_weighed: collections.Counter[int] = collections.Counter()
    for p in v2_cohort.patients:
        by_day = _first_per_day(v2_readings[p.index], Measure.BODY_WEIGHT)
        weeks: dict[tuple[int, int], list[tuple[datetime, float]]] = collections.defaultdict(list)
        for day, w in by_day.items():
            weeks[day.isocalendar()[:2]].append((day, w))
            days_weighed[day.weekday()] += 1
        for week in weeks.values():
            if len(week) >= 5:
                level = statistics.mean(w for _, w in week)
                for day, w in week:
                    weight[day.weekday()].append(w - level)
    mean = {d: statistics.mean(v) for d, v in weight.items()}
    assert (mean[6] + mean[0]) / 2 - (mean[3] + mean[4]) / 2 > 0.15  # Sun/Mon vs Thu/Fri
    assert days_weighed[5] + days_weighed[6] < 0.95 * (days_weighed[1] + days_weighed[2])
    monday: list[float] = []
    others: list[float] = []
    for p in v2_cohort.patients:
        bp = _first_per_day(v2_readings[p.index], Measure.BLOOD_PRESSURE)
        if len(bp) > 100:
            typical = statistics.median(bp.values())
            for day, v in bp.items():
                (monday if day.weekday() == 0 else others).append(v - typical)
    assert statistics.mean(monday) - statistics.mean(others) > 1.0


def test_patients_differ_in_noise_and_days_are_autocorrelated(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    noise = [p.traits["weight_noise_sd"] for p in v2_cohort.patients]
    assert max(noise) / min(noise) > 3.0
    spreads, correlations = [], []
    for p in v2_cohort.patients:
        by_day = _first_per_day(v2_readings[p.index], Measure.BODY_WEIGHT)
        if len(by_day) < 150:
            continue
        days = sorted(by_day)
        steps = [by_day[b] - by_day[a] for a, b in itertools.pairwise(days) if b - a == DAY]
        spreads.append(statistics.pstdev(steps))
        x = np.array([by_day[d] for d in days])
        detrended = (x - np.convolve(x, np.ones(15) / 15, mode="same"))[7:-7]
        correlations.append(float(np.corrcoef(detrended[:-1], detrended[1:])[0, 1]))
    deciles = statistics.quantiles(spreads, n=10)
    assert deciles[-1] / deciles[0] > 1.6
    assert statistics.median(correlations) > 0.15


def test_blood_pressure_and_spo2_look_alikes_show(
    v2_cohort: TruthCohort, v2_readings: Readings
) -> None:
    def excess(kind: TruthKind, measure: Measure, margin: float = 0.0) -> list[float]:
        """Mean excess over the patient's median of the readings during each event."""
        out = []
        for e in v2_cohort.truth.of_kind(kind):
            mine = v2_readings[e.patient_index]
            values = [(_t(r.measured_at), r.value) for r in mine if r.measure is measure]
            typical = statistics.median(v for _, v in values)
            onset, end = _span(e)
            if onset == end:  # one reading
                inside = [v - typical for t, v in values if t == onset]
            else:
                inside = [v - typical for t, v in values if onset + margin <= t < end - margin]
            if inside:
                out.append(statistics.mean(inside))
        return out

    stress = excess(TruthKind.STRESS_WEEK, Measure.BLOOD_PRESSURE, margin=1.0)
    assert statistics.mean(stress) > 4.0
    spikes = excess(TruthKind.MORNING_BP_SPIKE, Measure.BLOOD_PRESSURE)
    assert sum(s > 10.0 for s in spikes) > 0.8 * len(spikes)
    perfusion = excess(TruthKind.POOR_PERFUSION, Measure.OXYGEN_SATURATION)
    assert statistics.mean(perfusion) < -1.0


def test_some_readings_arrive_late(v2_cohort: TruthCohort, v2_readings: Readings) -> None:
    readings = [r for rs in v2_readings.values() for r in rs]
    late = sum(r.received_at - r.measured_at > timedelta(hours=1) for r in readings)
    assert 0 < late < 0.1 * len(readings)
    assert all(r.received_at >= r.measured_at for r in readings)
    assert len(v2_cohort.truth.of_kind(TruthKind.OUTLIER)) > v2_cohort.truth.patient_years


#: The measures the ground-truth generator simulates (no thermometer).
SIMULATED = [m for m in Measure if m is not Measure.BODY_TEMPERATURE]


@pytest.mark.parametrize("measure", SIMULATED)
def test_values_stay_within_what_the_hub_accepts(v2_readings: Readings, measure: Measure) -> None:
    mine = [r for rs in v2_readings.values() for r in rs if r.measure is measure]
    values = [r.value for r in mine]
    bounds = {
        Measure.BODY_WEIGHT: (30.0, 200.0),
        Measure.BLOOD_PRESSURE: (50.0, 300.0),
        Measure.OXYGEN_SATURATION: (60.0, 100.0),
        Measure.HEART_RATE: (25.0, 200.0),
    }[measure]
    assert bounds[0] <= min(values)
    assert max(values) <= bounds[1]
    if measure is Measure.BLOOD_PRESSURE:
        assert all(r.value2 is not None and 20.0 <= r.value2 < r.value for r in mine)
