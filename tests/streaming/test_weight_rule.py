"""The weight guideline rule: 2 kg within 72 hours, 2.3 kg within a week, on daily minima."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.detectors import Observation, WeightGainRule, build_detectors
from tests.streaming.series import at
from tests.streaming.test_rules import UNCONFIRMED, confirmed, unconfirmed

CHF = get_pathway("CHF")
T = CHF.thresholds


def weight_rule() -> WeightGainRule:
    (rule, _) = build_detectors(Measure.BODY_WEIGHT, get_pathway("CHF"))
    assert isinstance(rule, WeightGainRule)
    return rule


@given(st.floats(min_value=0, max_value=4), st.floats(min_value=48, max_value=72))
@example(1.99, 72.0)
@example(2.0, 72.0)
@example(2.0, 48.0)
def test_weight_gain_within_72_hours(gain: float, hours: float) -> None:
    rule = weight_rule()
    rule.update(Observation(at(0), 80.0))
    rule.update(Observation(at(0, hours - 24), 80.0 + gain))  # the day before: confirms
    finding = rule.update(Observation(at(0, hours), 80.0 + gain))
    assert (finding is not None) == ((80.0 + gain) - 80.0 >= T.weight_gain_short_kg - 1e-6)
    if finding is not None:
        assert finding.source == "rule:weight_gain_72h"
        assert finding.baseline["reference_weight"] == 80.0


def test_weight_gain_older_than_72_hours_needs_the_weekly_limit() -> None:
    rule = weight_rule()
    rule.update(Observation(at(0), 80.0))
    assert rule.update(Observation(at(0, 73), 82.2)) is None
    assert unconfirmed(rule.update(Observation(at(4), 82.3)))  # not yet confirmed
    finding = rule.update(Observation(at(5), 82.3))
    assert confirmed(finding)
    assert finding is not None
    assert finding.source == "rule:weight_gain_7d"
    assert finding.observed == {"weight": 82.3, "gain": 2.3}
    assert finding.window_start == at(0)


def test_weight_gain_beyond_a_week_is_forgotten() -> None:
    rule = weight_rule()
    rule.update(Observation(at(0), 78.0))
    for day in range(1, 8):
        rule.update(Observation(at(day), 80.0))
    assert rule.update(Observation(at(8), 80.5)) is None


def test_weight_gain_within_a_day_is_not_a_gain() -> None:
    rule = weight_rule()
    rule.update(Observation(at(0), 80.0))
    assert rule.update(Observation(at(0, 12), 82.5)) is None  # evening, clothes and meals
    assert rule.update(Observation(at(1), 80.4)) is None
    assert rule.update(Observation(at(1, 12), 82.6)) is None  # the day's lowest is 80.4
    assert unconfirmed(rule.update(Observation(at(2), 82.0)))  # 2 kg, not yet confirmed
    finding = rule.update(Observation(at(3), 82.1))
    assert confirmed(finding)
    assert finding is not None
    assert finding.observed == {"weight": 82.1, "gain": 2.1}


def test_a_single_heavy_day_that_reverts_is_not_a_gain() -> None:
    rule = weight_rule()
    findings = [
        rule.update(Observation(at(day), kg))
        for day, kg in enumerate([80.0, 80.1, 82.5, 80.2, 80.1])  # a coat on day 2
    ]
    assert [f is not None and f.severity for f in findings] == [
        False, False, UNCONFIRMED, False, False
    ]  # fmt: skip
    for day in (6, 7, 8):  # the episode ends after recovery_readings calm days
        rule.update(Observation(at(day), 80.1))
    assert confirmed(rule.update(Observation(at(9), 84.2)))  # beyond the at-once gain


def test_a_settled_gain_ends_the_rules_episode_and_a_later_gain_is_a_new_one() -> None:
    """Issue #15, defect 1: the episode no longer waits for the low point it opened at."""
    rule = weight_rule()
    for day, kg in enumerate([80.0, 80.1, 82.4, 82.5]):  # 2.4 kg in two days, confirmed
        finding = rule.update(Observation(at(day), kg))
    assert confirmed(finding)
    for day in range(4, 14):  # the patient stays at 82.5 kg: old news after a week
        rule.update(Observation(at(day), 82.5))
    assert not rule.episode_active
    rule.update(Observation(at(14), 84.6))
    assert confirmed(rule.update(Observation(at(15), 84.7)))
    assert rule.episode_active


def test_weight_rule_keeps_daily_minima_only() -> None:
    rule = weight_rule()
    for day in range(30):
        for hour in (0, 6, 12):
            rule.update(Observation(at(day, hour), 80.0 + hour / 10))
    assert len(rule._minima) <= T.weight_gain_week_days + 2
    assert {kg for _, kg, _ in rule._minima} == {80.0}
