"""The v2 generator's events: varied deteriorations, frequent confounders that overlap them.

Simulated data. Readings-level phenomena are in ``test_truth_readings.py``.
"""

from __future__ import annotations

import collections
from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest

from simulators.groundtruth import TruthCohort, build_truth_cohort
from simulators.gt_models import GroundTruth, TruthEvent, TruthKind
from simulators.models import Pathway
from simulators.truth.deteriorations import SHAPE_SHARES, SHAPES, draw_primaries
from tests.simulators.conftest import V2_START

WEIGHT_CONFOUNDERS = (
    TruthKind.HOLIDAY_GAIN,
    TruthKind.POST_DISCHARGE_REGAIN,
    TruthKind.DIURETIC_CHANGE,
    TruthKind.SCALE_REPLACED,
    TruthKind.CLOTHED_WEIGHING,
)
V2_CONFOUNDERS = {
    *WEIGHT_CONFOUNDERS,
    TruthKind.SEASONAL_GAIN,
    TruthKind.SECOND_WEIGHING,
    TruthKind.STRESS_WEEK,
    TruthKind.MORNING_BP_SPIKE,
    TruthKind.POOR_PERFUSION,
    TruthKind.OUTLIER,
}


def _chf_years(c: TruthCohort) -> float:
    return sum(p.exposure_years for p in c.patients if p.pathway is Pathway.CHF)


def test_the_ground_truth_file_round_trips_with_v2s_additions(
    v2_cohort: TruthCohort, tmp_path: Path
) -> None:
    path = tmp_path / "truth.json"
    v2_cohort.truth.write(path)
    assert GroundTruth.load(path) == v2_cohort.truth
    data = orjson.loads(path.read_bytes())
    assert data["simulated"] is True
    assert data["generator"] == "v2"
    chf = next(p for p in data["patients"] if p["pathway"] == "CHF")
    assert len(chf["device_units"]) == len(chf["devices"])
    assert "weight_noise_sd" in chf["traits"]
    decompensation = next(e for e in data["events"] if e["kind"] == "decompensation")
    assert decompensation["variant"] in SHAPES
    assert decompensation["confounder"] is False
    kinds = {e["kind"]: e["confounder"] for e in data["events"]}
    assert {TruthKind(k) for k, confounder in kinds.items() if confounder} == V2_CONFOUNDERS


def test_every_new_kind_is_a_confounder() -> None:
    for kind in V2_CONFOUNDERS:
        assert kind.confounder
        assert not kind.deterioration
    assert not TruthKind.NON_ADHERENCE.confounder
    assert not TruthKind.DECOMPENSATION.confounder


def test_decompensations_have_every_shape_size_and_speed(v2_cohort: TruthCohort) -> None:
    events = v2_cohort.truth.of_kind(TruthKind.DECOMPENSATION)
    assert len(events) >= 50
    shapes = collections.Counter(e.variant for e in events)
    for shape, share in zip(SHAPES, SHAPE_SHARES, strict=True):
        assert abs(shapes[shape] / len(events) - share) < 0.15, shapes
    gains = [e.params["gain_kg"] for e in events]
    little = sum(g < 0.6 for g in gains) / len(gains)
    assert 0.05 <= little <= 0.30  # little or no weight gain
    assert not [g for g in gains if 0.6 <= g < 1.0 or g > 5.0]
    for lo in (1.0, 2.0, 3.0, 4.0):  # every kilogram from 1 to 5
        assert sum(lo <= g < lo + 1.0 for g in gains) >= 0.05 * len(gains), lo
    speeds = [e.params["days"] for e in events]
    assert all(3.0 <= d <= 30.0 for d in speeds)
    assert min(speeds) < 5.0
    assert max(speeds) > 25.0
    for e in events:
        assert (e.event_time - e.onset) / timedelta(days=1) == pytest.approx(
            e.params["days"], abs=1e-4
        )
        assert e.params["rate_kg_per_day"] == pytest.approx(
            e.params["gain_kg"] / e.params["days"], abs=1e-3
        )
    for vital in ("hr_rise", "spo2_drop", "systolic_change"):  # present in some, not all
        share = sum(e.params[vital] != 0.0 for e in events) / len(events)
        assert 0.15 < share < 0.75, vital
    silent = [e for e in events if e.params["silent_days"] > 0]
    assert 0.15 < len(silent) / len(events) < 0.55
    assert all(1.0 <= e.params["silent_days"] <= 4.0 for e in silent)


def test_copd_and_hypertensive_episodes_vary(v2_cohort: TruthCohort) -> None:
    copd = v2_cohort.truth.of_kind(TruthKind.COPD_EXACERBATION)
    assert {e.variant for e in copd} == {"gradual", "abrupt", "prodrome"}
    drops = [e.params["spo2_drop"] for e in copd]
    assert min(drops) < 1.0
    assert max(drops) > 4.0
    assert 0 < sum(e.params["hr_rise"] == 0.0 for e in copd) < len(copd) / 2
    admitted = sum(e.returns_at is not None for e in copd) / len(copd)
    assert 0.15 < admitted < 0.6
    bp = v2_cohort.truth.of_kind(TruthKind.HYPERTENSIVE_EPISODE)
    assert {e.variant for e in bp} == {"abrupt", "gradual"}
    rises = [e.params["systolic_rise"] for e in bp]
    assert min(rises) < 30.0
    assert max(rises) > 60.0


def test_weight_confounders_are_frequent_and_as_large_as_events(v2_cohort: TruthCohort) -> None:
    chf = {p.index for p in v2_cohort.patients if p.pathway is Pathway.CHF}
    mine = [e for e in v2_cohort.truth.events if e.patient_index in chf]
    counts = collections.Counter(e.kind for e in mine if e.kind in WEIGHT_CONFOUNDERS)
    years = _chf_years(v2_cohort)
    assert set(counts) == set(WEIGHT_CONFOUNDERS)
    assert sum(counts.values()) / years >= 5.0
    assert (sum(counts.values()) - counts[TruthKind.CLOTHED_WEIGHING]) / years >= 2.5
    truth = v2_cohort.truth

    def sizes(kind: TruthKind, key: str) -> list[float]:
        return [abs(e.params[key]) for e in truth.of_kind(kind)]

    assert min(sizes(TruthKind.HOLIDAY_GAIN, "gain_kg")) >= 1.0
    assert max(sizes(TruthKind.HOLIDAY_GAIN, "gain_kg")) <= 3.0
    assert {e.variant for e in truth.of_kind(TruthKind.HOLIDAY_GAIN)} == {"trip", "christmas"}
    regains = truth.of_kind(TruthKind.POST_DISCHARGE_REGAIN)
    assert all(1.0 <= e.params["gain_kg"] <= 4.0 and 28 <= e.params["days"] <= 70 for e in regains)
    # at enrolment (a discharge) and after later stays
    assert {e.onset == V2_START for e in regains} == {True, False}
    steps = truth.of_kind(TruthKind.DIURETIC_CHANGE)
    assert all(0.5 <= abs(e.params["step_kg"]) <= 2.0 and e.params["days"] <= 4 for e in steps)
    assert {e.params["step_kg"] > 0 for e in steps} == {True, False}
    runs = truth.of_kind(TruthKind.CLOTHED_WEIGHING)
    assert all(0.5 <= e.params["delta_kg"] <= 1.5 for e in runs)
    assert 0 < sum(e.params["days"] >= 3 for e in runs) < len(runs) / 2  # several days in a row
    offsets = sizes(TruthKind.SCALE_REPLACED, "offset_kg")
    assert offsets
    assert all(0.3 <= x <= 1.5 for x in offsets)


def _active(confounder: TruthEvent, at_days: float) -> bool:
    """Whether a weight confounder is changing the weight (or just did) at ``at_days``."""
    onset = (confounder.onset - V2_START) / timedelta(days=1)
    end = (confounder.event_time - V2_START) / timedelta(days=1)
    if confounder.kind is TruthKind.HOLIDAY_GAIN:
        end += confounder.params["loss_days"]  # while it fades
    elif confounder.kind is not TruthKind.CLOTHED_WEIGHING:
        end += 14.0  # a step, a regain or a new scale: its first two weeks
    return onset <= at_days < end


def test_confounders_overlap_decompensations(v2_cohort: TruthCohort) -> None:
    truth = v2_cohort.truth
    confounders = [e for e in truth.events if e.kind in WEIGHT_CONFOUNDERS]
    holidays = truth.of_kind(TruthKind.HOLIDAY_GAIN)
    events = truth.of_kind(TruthKind.DECOMPENSATION)
    overlapped = during_rise = 0
    for d in events:
        at = (d.onset - V2_START) / timedelta(days=1)
        mine = [c for c in confounders if c.patient_index == d.patient_index]
        overlapped += any(_active(c, at) for c in mine)
        during_rise += any(
            h.patient_index == d.patient_index and h.onset <= d.onset <= h.event_time
            for h in holidays
        )
    assert overlapped / len(events) >= 0.3
    assert during_rise >= 3  # a decompensation starting during a holiday gain


def test_rates_resemble_a_post_discharge_population(v2_cohort: TruthCohort) -> None:
    truth = v2_cohort.truth
    rate = len(truth.of_kind(TruthKind.DECOMPENSATION)) / _chf_years(v2_cohort)
    assert 0.5 <= rate <= 1.1
    copd_years = sum(p.exposure_years for p in v2_cohort.patients if p.pathway is Pathway.COPD)
    assert 0.6 <= len(truth.of_kind(TruthKind.COPD_EXACERBATION)) / copd_years <= 1.6
    assert len(truth.of_kind(TruthKind.DROPOUT)) > 0


def _onsets(pathway: Pathway, kind: TruthKind, *, day_of_year: float, n: int) -> list[float]:
    out = []
    for i in range(n):
        primary, _, _ = draw_primaries(
            np.random.default_rng((99, i)),
            pathway,
            days=365.0,
            n_devices=3,
            day_of_year=day_of_year,
        )
        out += [s.onset for s in primary if s.kind is kind]
    return out


def test_deteriorations_are_likelier_in_the_month_after_discharge() -> None:
    onsets = _onsets(Pathway.CHF, TruthKind.DECOMPENSATION, day_of_year=181.0, n=3000)
    early = sum(3.0 <= t < 30.0 for t in onsets) / 27.0
    late = sum(120.0 <= t < 330.0 for t in onsets) / 210.0
    assert early / late > 1.5


def test_copd_exacerbations_follow_the_seasons() -> None:
    # A window starting 1 July: the month after enrolment is not in winter.
    onsets = _onsets(Pathway.COPD, TruthKind.COPD_EXACERBATION, day_of_year=181.0, n=2000)
    winter = sum(123.0 <= t < 243.0 for t in onsets)  # November to February
    summer = sum(t >= 304.0 for t in onsets) + sum(30.0 <= t < 62.0 for t in onsets)
    summer_days = (365.0 - 304.0) + 32.0  # May-June, and August from day 30
    assert (winter / 120.0) / (summer / summer_days) > 1.25


def test_outside_copd_the_events_do_not_depend_on_the_start_date() -> None:
    """Only Christmas (and, in COPD, the season of exacerbations) moves with the calendar."""
    a = build_truth_cohort(12, seed=4, start=V2_START, days=200)
    b = build_truth_cohort(12, seed=4, start=V2_START + timedelta(days=150), days=200)

    def kinds(c: TruthCohort) -> list[tuple[int, TruthKind, float]]:
        return [
            (e.patient_index, e.kind, (e.onset - c.truth.start) / timedelta(days=1))
            for e in c.truth.events
            if c.patients[e.patient_index].pathway is not Pathway.COPD
            and (e.kind.deterioration or e.kind is TruthKind.SCALE_REPLACED)
        ]

    assert kinds(a) == kinds(b) != []
