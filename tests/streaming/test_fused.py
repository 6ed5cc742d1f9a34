"""The fused heart-failure score: what coordinators rely on beyond the contract suite."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hub.alerting import Severity
from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.detectors import Finding, HeartFailureScore, Observation, build_score
from streaming.detectors.robust import RobustBaseline

CHF = get_pathway("CHF")
T0 = datetime(2026, 1, 5, 7, tzinfo=UTC)


def score() -> HeartFailureScore:
    found = build_score(HeartFailureScore, CHF)
    assert isinstance(found, HeartFailureScore)
    return found


def usual(days: int, kg: float = 80.0, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [round(kg + rng.gauss(0, 0.25), 1) for _ in range(days)]


def weigh(
    det: HeartFailureScore, kgs: list[float], first: int = 0, device: int = 1
) -> list[Finding]:
    found = []
    for d, kg in enumerate(kgs):
        x = Observation(
            T0 + timedelta(days=first + d), kg, measure=Measure.BODY_WEIGHT, device=device
        )
        if f := det.update(x):
            found.append(f)
    return found


def test_a_rise_on_top_of_an_open_episode_escalates_it() -> None:
    """A holiday's kilograms open an alert; fluid on top of them raises it to high."""
    det = score()
    weigh(det, usual(40))
    holiday = [80.0 + 0.3 * d for d in range(1, 8)] + [82.1, 82.0, 82.2, 82.1]
    opened = weigh(det, holiday, first=40)
    assert opened
    assert {f.severity for f in opened} == {Severity.MEDIUM}
    more = weigh(det, [82.1 + 0.4 * d for d in range(1, 8)], first=51)
    assert more[-1].severity is Severity.HIGH


def test_a_new_scale_with_its_own_bias_is_learned_not_alerted() -> None:
    det = score()
    weigh(det, usual(40))
    step = [x + 1.4 for x in usual(30, seed=2)]
    assert weigh(det, step, first=40, device=2) == []  # a new scale reading 1.4 kg heavy
    same = score()
    weigh(same, usual(40))
    assert weigh(same, step, first=40, device=1)  # the same step on the old scale is a gain


def test_days_without_a_weight_neither_raise_nor_lower_the_score() -> None:
    det = score()
    weigh(det, usual(40))
    weigh(det, [81.2, 81.6], first=40)
    hr = [
        Observation(T0 + timedelta(days=d, hours=2), 95.0, measure=Measure.HEART_RATE)
        for d in range(42, 46)
    ]
    assert det.update(hr[0]) is None  # this first reading of a new day commits day 41
    before = det._s
    assert before > 0
    assert [det.update(x) for x in hr[1:]] == [None] * 3  # no weight: no alert on heart rate
    det.update(Observation(T0 + timedelta(days=46, hours=3), 70.0, measure=Measure.HEART_RATE))
    assert det._s == before


def test_a_robust_baseline_shrugs_off_a_coat_and_follows_a_settled_level() -> None:
    b = RobustBaseline(fading=0.05, warmup=7, floor=0.2, prior=0.5)
    for kg in usual(30):
        b.update(kg)
    level = b.level
    b.update(83.0)  # a coat on the scale
    assert b.level - level < 0.07
    for _ in range(40):
        b.update(81.5)  # a new settled weight
    assert abs(b.level - 81.5) < 0.3


def test_resolving_makes_the_current_level_normal_even_on_a_day_without_weight() -> None:
    """A coordinator resolved it: 82 kg is the patient's weight now; a rise from there alerts."""
    det = score()
    weigh(det, usual(40))
    assert weigh(det, [80.0 + 0.4 * d for d in range(1, 6)] + [82.0] * 3, first=40)
    det.update(Observation(T0 + timedelta(days=48, hours=2), 75.0, measure=Measure.HEART_RATE))
    det.resolve()  # on a day with a heart rate but no weight
    assert not det.episode_active
    assert weigh(det, [82.0 + (0.1 if d % 2 else -0.1) for d in range(20)], first=49) == []
    assert weigh(det, [82.0 + 0.4 * d for d in range(1, 9)], first=69)
