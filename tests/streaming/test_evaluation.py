"""Scoring against ground truth on tiny hand-made examples, and the rule of thumb."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

from hub.alerting import AlertKind, Detection, Severity, StreamReading
from hub.domain import Measure
from simulators.evaluation.eval_cli import eval_command
from streaming.evaluation import (
    Matching,
    TruthWindow,
    alert_episodes,
    format_table,
    score,
)
from streaming.rule_of_thumb import SOURCE, WeightRuleOfThumb

P, Q = UUID(int=1), UUID(int=2)
T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
WEIGHT = frozenset({AlertKind.WEIGHT_GAIN})


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def alert(day: float, kind: AlertKind = AlertKind.WEIGHT_GAIN, patient: UUID = P) -> Detection:
    return Detection(
        patient, kind, Severity.HIGH, "model:test", None, {}, {}, at(day), at(day), "test"
    )


def decomp(onset: float = 0.0, event: float = 20.0, patient: UUID = P) -> TruthWindow:
    return TruthWindow(
        patient, "decompensation", at(onset), at(event), at(event + 5), WEIGHT, Matching.LEAD
    )


def test_one_event_caught_ten_days_early() -> None:
    card = score("m", [alert(10)], [decomp()], patient_years=1.0)
    kind = card.by_event_kind["decompensation"]
    assert kind.sensitivity == 1.0
    assert kind.median_days == 10.0
    assert card.unexplained == 0
    assert card.ppv == 1.0


def test_one_alert_outside_any_event_is_one_unexplained_alert() -> None:
    card = score("m", [alert(10), alert(60)], [decomp()], patient_years=2.0)
    assert card.unexplained == 1
    assert card.unexplained_per_patient_year == 0.5
    assert card.ppv == 0.5
    assert card.alerts_by_kind == {"weight_gain": 2}


def test_no_alert_no_detection() -> None:
    card = score("m", [], [decomp()], patient_years=1.0)
    assert card.by_event_kind["decompensation"].sensitivity == 0.0
    assert card.by_event_kind["decompensation"].median_days is None
    assert card.ppv is None


@pytest.mark.parametrize(
    ("day", "caught", "explained"),
    [
        (-2.0, False, False),  # before the onset: chance
        (0.0, True, True),  # at the onset, 20 days ahead
        (19.5, False, True),  # less than a day ahead: too late, but explained
        (22.0, False, True),  # in hospital
        (26.0, False, False),  # after the window
    ],
)
def test_lead_window(day: float, caught: bool, explained: bool) -> None:
    card = score("m", [alert(day)], [decomp()], patient_years=1.0)
    assert (card.by_event_kind["decompensation"].detected == 1) is caught
    assert (card.unexplained == 0) is explained


def test_the_lead_window_is_thirty_days_at_most() -> None:
    window = decomp(onset=0.0, event=40.0)
    assert (
        score("m", [alert(5)], [window], patient_years=1).by_event_kind["decompensation"].detected
        == 0
    )
    assert (
        score("m", [alert(11)], [window], patient_years=1).by_event_kind["decompensation"].detected
        == 1
    )


def test_matching_needs_the_patient_and_a_relevant_kind() -> None:
    other_kind = score("m", [alert(10, AlertKind.BP_HIGH)], [decomp()], patient_years=1.0)
    assert other_kind.by_event_kind["decompensation"].detected == 0
    assert other_kind.unexplained == 0  # within the event's window all the same
    other_patient = score("m", [alert(10, patient=Q)], [decomp()], patient_years=1.0)
    assert other_patient.by_event_kind["decompensation"].detected == 0
    assert other_patient.unexplained == 1


def test_consecutive_detections_are_one_episode() -> None:
    ds = [alert(d) for d in (30, 31, 33, 36, 40)]  # 36 -> 40 is more than 3 days
    eps = alert_episodes(ds)
    assert [(e.start, e.detections) for e in eps] == [(at(30), 4), (at(40), 1)]
    assert [e.start for e in alert_episodes(ds, min_detections=2)] == [at(31)]
    kinds = alert_episodes([alert(30), alert(30, AlertKind.HR_HIGH)])
    assert len(kinds) == 2


def test_the_earliest_matching_episode_gives_the_lead() -> None:
    windows = [decomp(), decomp(onset=100, event=110)]
    card = score("m", [alert(5), alert(15), alert(108)], windows, patient_years=1.0)
    kind = card.by_event_kind["decompensation"]
    assert (kind.detected, kind.events) == (2, 2)
    assert sorted(kind.days) == [2.0, 15.0]
    assert kind.median_days == 8.5


def test_lapses_are_caught_during_the_gap_and_scored_by_delay() -> None:
    gap = TruthWindow(
        P,
        "non_adherence",
        at(0),
        at(10),
        at(11),
        frozenset({AlertKind.MISSED_READINGS}),
        Matching.DURING,
    )
    card = score("m", [alert(2.5, AlertKind.MISSED_READINGS)], [gap], patient_years=1.0)
    assert card.by_event_kind["non_adherence"].sensitivity == 1.0
    assert card.by_event_kind["non_adherence"].median_days == 2.5
    table = format_table([card, card])
    assert "non_adherence: median delay (d)" in table
    assert "1/1 (100.0 %)" in table


def weigh(kg: float, hours: float, *, received_hours: float | None = None) -> StreamReading:
    measured = T0 + timedelta(hours=hours)
    received = T0 + timedelta(hours=received_hours if received_hours is not None else hours)
    return StreamReading(P, 3, Measure.BODY_WEIGHT, measured, kg, None, received)


@pytest.mark.parametrize(("gain", "fires"), [(2.1, True), (2.0, True), (1.9, False)])
def test_rule_of_thumb_on_a_48_hour_jump(gain: float, fires: bool) -> None:
    rule = WeightRuleOfThumb()
    assert rule.process(weigh(80.0, 0)) == []
    assert rule.process(weigh(80.6, 24)) == []
    found = rule.process(weigh(80.0 + gain, 48))
    assert bool(found) is fires
    if fires:
        (d,) = found
        assert d.source == SOURCE
        assert d.kind is AlertKind.WEIGHT_GAIN
        assert d.observed["gain_kg"] == pytest.approx(gain)
        assert d.baseline["min_weight_kg"] == 80.0
        assert d.window_start == T0
        assert d.window_end == T0 + timedelta(hours=48)


def test_rule_of_thumb_forgets_weights_older_than_72_hours() -> None:
    rule = WeightRuleOfThumb()
    rule.update(weigh(80.0, 0))
    assert rule.update(weigh(82.5, 96)) is None


def test_rule_of_thumb_ignores_other_measures_and_pickles() -> None:
    rule = WeightRuleOfThumb()
    bp = StreamReading(P, 4, Measure.BLOOD_PRESSURE, T0, 190.0, 100.0, T0)
    assert rule.update(bp) is None
    rule.update(weigh(80.0, 0))
    copy = pickle.loads(pickle.dumps(rule))  # noqa: S301 (our own bytes)
    assert copy.process(weigh(82.2, 30)) == rule.process(weigh(82.2, 30))
    assert copy.process(weigh(82.2, 30))  # and both fired


def test_rule_of_thumb_judges_a_late_reading_by_what_came_before_it() -> None:
    rule = WeightRuleOfThumb()
    rule.update(weigh(80.0, 0))
    rule.update(weigh(83.0, 60))
    # Measured at 30 h, received after the 60 h reading: compared with 0 h only.
    assert rule.update(weigh(81.0, 30, received_hours=61)) is None


def test_eval_command_rule_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        eval_command,
        ["--patients", "12", "--days", "90", "--seed", "3", "--out", str(tmp_path), "--rule-only"],
    )
    assert result.exit_code == 0, result.output
    assert "rule of thumb" in result.output
    assert "SIMULATED" in result.output
    assert (tmp_path / "ground_truth.json").stat().st_size > 0
    assert (tmp_path / "evaluation.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_runs_our_detectors_and_the_rule_on_the_same_readings() -> None:
    from simulators.evaluation.evaluate import OURS, RULE, evaluate
    from simulators.groundtruth import build_truth_cohort

    cohort = build_truth_cohort(8, seed=4, start=T0, days=120)
    result = evaluate(cohort)
    assert [c.method for c in result.cohort] == [OURS, RULE]
    assert [c.method for c in result.chf] == [OURS, RULE]
    assert all(d.source == SOURCE for d in result.detections[RULE])
    assert {p.method for p in result.curve} == {OURS, RULE}
    assert result.n_readings == cohort.n_readings
