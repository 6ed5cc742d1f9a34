"""Ground-truth cohorts: reproducible, complete ground truth, events that do what they say.

Most tests here are of the v1 generator, which must stay exactly as it was; the
v2 generator's phenomena are tested in ``test_truth_v2.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest

from hub.alerting import StreamReading
from hub.domain import DeviceKind, Measure
from simulators.groundtruth import (
    TruthCohort,
    build_truth_cohort,
    patient_uuid,
    sim_events,
    to_data_point,
)
from simulators.gt_events import draw_schedule
from simulators.gt_models import GroundTruth, TruthKind
from simulators.gt_signals import offsets
from simulators.models import Pathway

START = datetime(2026, 1, 1, tzinfo=UTC)
V1_KINDS = {
    TruthKind.DECOMPENSATION,
    TruthKind.COPD_EXACERBATION,
    TruthKind.HYPERTENSIVE_EPISODE,
    TruthKind.NON_ADHERENCE,
    TruthKind.DROPOUT,
    TruthKind.WEEKEND_BUMP,
    TruthKind.OUTLIER,
}


@pytest.fixture(scope="module")
def cohort() -> TruthCohort:
    return build_truth_cohort(120, seed=5, start=START, days=365, generator="v1")


def _digest(c: TruthCohort) -> str:
    h = hashlib.sha256()
    for r in c.readings():
        h.update(
            f"{r.patient_id}|{r.device_id}|{r.measure.value}|{r.measured_at.isoformat()}|"
            f"{r.value!r}|{r.value2!r}|{r.received_at.isoformat()}\n".encode()
        )
    h.update(c.truth.to_json())
    return h.hexdigest()


@pytest.mark.parametrize(
    ("n", "seed", "days", "readings", "digest"),
    [
        (12, 7, 200, 14544, "0d017cb0ab3642d5cf9bf73f8ded71bc3940f8cf43b61bc04139c78fedcffa03"),
        (6, 0, 365, 11529, "d8a747f3949a9a2954f4ed5250a9645b01171d20cd3e4442c5fe64c6486d3296"),
    ],
)
def test_v1_is_exactly_what_it_was_before_v2(
    n: int, seed: int, days: int, readings: int, digest: str
) -> None:
    """Digests of readings and ground-truth file taken on main before v2 was written."""
    c = build_truth_cohort(
        n, seed=seed, start=datetime(2026, 3, 5, tzinfo=UTC), days=days, generator="v1"
    )
    assert c.n_readings == readings
    assert _digest(c) == digest


def test_v1_messages_are_exactly_what_they_were_before_v2() -> None:
    c = build_truth_cohort(
        6, seed=0, start=datetime(2026, 3, 5, tzinfo=UTC), days=60, generator="v1"
    )
    h = hashlib.sha256()
    for e in sim_events(c, prefix="v1"):
        h.update(f"{e.due.isoformat()}|{e.gateway_key}|{e.device_serial}|".encode() + e.payload)
        h.update(b"\n")
    assert h.hexdigest() == "815a75b52b38d7207e82f3d51443a04478b1a4ce8bc32f2c8c20d8116e95f34d"


def test_an_unknown_generator_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown generator"):
        build_truth_cohort(2, seed=1, start=START, days=10, generator="v3")


@pytest.fixture(scope="module")
def readings(cohort: TruthCohort) -> list[StreamReading]:
    return list(cohort.readings())


@pytest.mark.parametrize("generator", ["v1", "v2"])
def test_same_seed_same_cohort_other_seed_other_cohort(generator: str) -> None:
    a = build_truth_cohort(6, seed=3, start=START, days=90, generator=generator)
    b = build_truth_cohort(6, seed=3, start=START, days=90, generator=generator)
    c = build_truth_cohort(6, seed=4, start=START, days=90, generator=generator)
    assert list(a.readings()) == list(b.readings())
    assert a.truth.to_json() == b.truth.to_json()
    assert list(a.readings()) != list(c.readings())


@pytest.mark.parametrize("generator", ["v1", "v2"])
def test_a_patient_does_not_depend_on_the_cohort_size(generator: str) -> None:
    small = build_truth_cohort(3, seed=9, start=START, days=60, generator=generator)
    large = build_truth_cohort(8, seed=9, start=START, days=60, generator=generator)
    assert list(small.patient_readings(2)) == list(large.patient_readings(2))
    assert small.truth.patients[2] == large.truth.patients[2]


def test_readings_in_arrival_order_in_canonical_units(
    cohort: TruthCohort, readings: list[StreamReading]
) -> None:
    assert len(readings) == cohort.n_readings
    assert all(a.received_at <= b.received_at for a, b in itertools.pairwise(readings))
    assert all(r.received_at >= r.measured_at for r in readings)
    assert all(r.measured_at.utcoffset() == timedelta(0) for r in readings[:1000])
    late = sum(r.received_at - r.measured_at > timedelta(hours=1) for r in readings)
    assert 0 < late < 0.1 * len(readings)
    by = {m: [r for r in readings if r.measure is m] for m in Measure}
    assert all(30 < r.value < 200 for r in by[Measure.BODY_WEIGHT])
    assert all(70 <= r.value <= 100 for r in by[Measure.OXYGEN_SATURATION])
    assert all(25 < r.value < 200 for r in by[Measure.HEART_RATE])
    bp = by[Measure.BLOOD_PRESSURE]
    assert all(r.value2 is not None and 30 < r.value2 < r.value < 300 for r in bp)
    assert all(r.value2 is None for r in by[Measure.HEART_RATE])


def test_ground_truth_file_lists_every_injected_event(cohort: TruthCohort, tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    cohort.truth.write(path)
    loaded = GroundTruth.load(path)
    assert loaded == cohort.truth
    assert orjson.loads(path.read_bytes())["simulated"] is True
    listed = {(e.patient_index, e.kind, e.onset) for e in loaded.events}
    first_saturday = float((5 - START.weekday()) % 7)
    injected = 0
    for p in loaded.patients:
        rng = np.random.default_rng((5, p.index))
        schedule = draw_schedule(
            rng,
            p.pathway,
            days=365.0,
            has_scale=DeviceKind.SCALE in p.devices,
            n_devices=len(p.devices),
            first_saturday=first_saturday,
        )
        episodes = [*schedule.primary, *schedule.bumps]
        episodes += [schedule.dropout] if schedule.dropout is not None else []
        for ep in episodes:
            onset = START + timedelta(seconds=round(ep.onset * 86_400))
            assert (p.index, ep.kind, onset) in listed
            injected += 1
    assert injected == sum(1 for e in loaded.events if e.kind is not TruthKind.OUTLIER)
    kinds = {e.kind for e in loaded.events}
    assert kinds == V1_KINDS
    assert b'"generator"' not in path.read_bytes()  # a v1 file is what it always was


def test_decompensation_weight_rises_by_the_intended_amount(cohort: TruthCohort) -> None:
    events = cohort.truth.of_kind(TruthKind.DECOMPENSATION)
    assert len(events) >= 20
    errors = []
    for e in events:
        gain, rate = e.params["gain_kg"], e.params["rate_kg_per_day"]
        assert gain == pytest.approx(rate * e.params["days"], abs=1e-3)
        assert 0.1 <= rate <= 0.5
        assert 7 <= e.params["days"] <= 22
        weights = [
            (r.measured_at, r.value)
            for r in cohort.patient_readings(e.patient_index)
            if r.measure is Measure.BODY_WEIGHT
        ]
        before = [w for t, w in weights if e.onset - timedelta(days=4) <= t < e.onset]
        last = [w for t, w in weights if e.event_time - timedelta(days=2) <= t < e.event_time]
        if len(before) < 2 or not last:
            continue
        # The last two days average about one day short of the full gain.
        errors.append(statistics.median(last) - statistics.median(before) - (gain - rate))
        # No weight is measured while the patient is in hospital.
        assert e.returns_at is not None
        assert not [t for t, _ in weights if e.event_time <= t < e.returns_at]
    assert len(errors) >= 15
    assert abs(statistics.mean(errors)) < 0.4
    assert all(abs(x) < 2.5 for x in errors)


def test_offsets_of_a_decompensation_are_exactly_the_gain() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        s = draw_schedule(rng, Pathway.CHF, days=365.0, has_scale=False)
        for ep in s.primary:
            if ep.kind is TruthKind.DECOMPENSATION:
                off = offsets(s, np.array([ep.onset, ep.event]))
                assert off.weight[1] - off.weight[0] == pytest.approx(ep.params["gain_kg"])


def test_non_adherence_gaps_and_dropouts_silence_devices(cohort: TruthCohort) -> None:
    for e in cohort.truth.of_kind(TruthKind.NON_ADHERENCE)[:40]:
        patient = cohort.patients[e.patient_index]
        slot = e.params.get("device_slot")
        ids = cohort.profiles[e.patient_index].device_ids
        silenced = set(ids) if slot is None else {ids[int(slot)]}
        inside = [
            r
            for r in cohort.patient_readings(patient.index)
            if e.onset <= r.measured_at < e.event_time and r.device_id in silenced
        ]
        assert inside == []
    for e in cohort.truth.of_kind(TruthKind.DROPOUT):
        assert not [r for r in cohort.patient_readings(e.patient_index) if r.measured_at >= e.onset]


def test_event_rates_resemble_a_post_discharge_population(cohort: TruthCohort) -> None:
    truth = cohort.truth
    chf_years = sum(p.exposure_years for p in truth.patients if p.pathway is Pathway.CHF)
    rate = len(truth.of_kind(TruthKind.DECOMPENSATION)) / chf_years
    assert 0.4 <= rate <= 1.1
    per_year = len(truth.of_kind(TruthKind.WEEKEND_BUMP)) / truth.patient_years
    assert per_year > 1.0
    assert len(truth.of_kind(TruthKind.OUTLIER)) > 0.5 * truth.patient_years


@pytest.mark.parametrize("generator", ["v1", "v2"])
def test_five_hundred_patient_years_in_well_under_a_minute(generator: str) -> None:
    t0 = time.perf_counter()
    big = build_truth_cohort(560, seed=2, start=START, days=365, generator=generator)
    assert time.perf_counter() - t0 < 30.0
    assert big.truth.patient_years >= 500
    assert big.n_readings > 500 * 365 * 4


def test_readings_become_open_mhealth_messages(cohort: TruthCohort) -> None:
    first = build_truth_cohort(2, seed=5, start=START, days=10)
    events = list(sim_events(first, prefix="gt5"))
    assert len(events) == first.n_readings
    assert all(a.due <= b.due for a, b in itertools.pairwise(events))
    point = orjson.loads(events[0].payload)
    assert point["header"]["schema_id"]["namespace"] == "omh"
    assert events[0].gateway_key.startswith("gt5-gw")
    bp = next(r for r in first.readings() if r.measure is Measure.BLOOD_PRESSURE)
    body = to_data_point(bp, header_id="h", source_name="s")["body"]
    assert body["systolic_blood_pressure"] == {"value": round(bp.value), "unit": "mmHg"}
    assert body["diastolic_blood_pressure"]["value"] == round(bp.value2 or 0)
    assert first.patients[0].patient_id == patient_uuid(5, 0)
