"""The contract every detector keeps, run over every detector class.

Modelled on river's ``river/checks``: each check is a plain function over a
fresh detector and a series; the parametrization guarantees no detector is
left out (a new detector without a spec here fails the suite).
"""

from __future__ import annotations

import copy
import inspect
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from hub.alerting import AlertKind, Severity
from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.detectors import (
    DETECTOR_CLASSES,
    BloodPressureHigh,
    BloodPressureLow,
    Detector,
    Finding,
    HeartFailureScore,
    HeartRateHigh,
    HeartRateLow,
    MeasureLimit,
    Observation,
    PressureScore,
    RespiratoryScore,
    SpO2Drop,
    SpO2Low,
    WeightGainRule,
    build_detectors,
)
from tests.streaming.series import daily, healthy, respiratory, shifted, weight_creep

MAX_STATE_BYTES = 2048
#: Seeds of the strict "nothing over 90 days" check. Over seeds 0-199 one
#: 90-day weight series each trips the drift model (seed 6) and the rule of
#: thumb (seed 199); the rate test below pins that rate down.
SEEDS = range(10, 18)
RATE_SEEDS = range(200)


@dataclass(frozen=True)
class Spec:
    measure: Measure
    episode: Callable[[], list[Observation]]
    #: Healthy series by seed and days; default: ``healthy(measure, ...)``.
    calm: Callable[[int, int], list[Observation]] | None = None

    def healthy(self, seed: int, days: int) -> list[Observation]:
        return self.calm(seed, days) if self.calm else healthy(self.measure, seed, days)


def _respiratory_episode() -> list[Observation]:
    """30 healthy days, then SpO2 down 1 point and heart rate up 4 a day for 5 days."""
    spo2 = [95.0 - d for d in range(1, 6)]
    hr = [72.0 + 4 * d for d in range(1, 6)]
    return respiratory(seed=99, days=30) + sorted(
        daily(spo2, first_day=30, measure=Measure.OXYGEN_SATURATION)
        + daily(hr, first_day=30, measure=Measure.HEART_RATE, hour=0.1),
        key=lambda o: o.at,
    )


def _after_healthy(
    measure: Measure, values: list[float], value2: float | None = None
) -> Callable[[], list[Observation]]:
    def series() -> list[Observation]:
        return healthy(measure, seed=99, days=30) + daily(
            values, first_day=30, value2=value2, measure=measure
        )

    return series


SPECS: dict[type[Detector], Spec] = {
    BloodPressureHigh: Spec(
        Measure.BLOOD_PRESSURE, _after_healthy(Measure.BLOOD_PRESSURE, [186, 192], 104)
    ),
    BloodPressureLow: Spec(
        Measure.BLOOD_PRESSURE, _after_healthy(Measure.BLOOD_PRESSURE, [84, 82], 50)
    ),
    SpO2Low: Spec(Measure.OXYGEN_SATURATION, _after_healthy(Measure.OXYGEN_SATURATION, [86, 85])),
    HeartRateHigh: Spec(Measure.HEART_RATE, _after_healthy(Measure.HEART_RATE, [128, 131])),
    HeartRateLow: Spec(Measure.HEART_RATE, _after_healthy(Measure.HEART_RATE, [37, 36])),
    SpO2Drop: Spec(
        Measure.OXYGEN_SATURATION, _after_healthy(Measure.OXYGEN_SATURATION, [93, 91, 91, 90])
    ),
    WeightGainRule: Spec(
        Measure.BODY_WEIGHT,
        lambda: weight_creep(flat_days=20, creep_days=6, kg_per_day=0.8),
    ),
    HeartFailureScore: Spec(
        Measure.BODY_WEIGHT,
        lambda: weight_creep(flat_days=20, creep_days=14, kg_per_day=0.3),
    ),
    PressureScore: Spec(
        Measure.BLOOD_PRESSURE,
        _after_healthy(Measure.BLOOD_PRESSURE, [140 + 8 * d for d in range(1, 8)], 85),
    ),
    RespiratoryScore: Spec(
        Measure.OXYGEN_SATURATION, _respiratory_episode, lambda seed, days: respiratory(seed, days)
    ),
    MeasureLimit: Spec(Measure.HEART_RATE, _after_healthy(Measure.HEART_RATE, [138, 141])),
}


def make(cls: type[Detector]) -> Detector:
    """A fresh detector of ``cls`` with the default pathway's parameters."""
    spec = SPECS[cls]
    if cls is MeasureLimit:
        # No shipped pathway limits a measure by ``limits.<measure>`` yet.
        return MeasureLimit(
            measure=Measure.HEART_RATE,
            above=True,
            kind=AlertKind.HR_HIGH,
            limit=130,
            at_once=150,
            severity=Severity.HIGH,
            unconfirmed_severity=Severity.LOW,
            confirm_readings=2,
            confirm_hours=24,
            recovery_readings=3,
        )
    if cls is RespiratoryScore:
        pathway = get_pathway("COPD")
    elif spec.measure is Measure.BODY_WEIGHT:
        pathway = get_pathway("CHF")  # weight is watched on the heart-failure pathway
    else:
        pathway = get_pathway("default")
    (found,) = [d for d in build_detectors(spec.measure, pathway) if type(d) is cls]
    return found


def run(detector: Detector, series: list[Observation]) -> list[Finding | None]:
    return [detector.update(x) for x in series]


def _concrete_detectors() -> set[type[Detector]]:
    found: set[type[Detector]] = set()
    todo = Detector.__subclasses__()
    while todo:
        sub = todo.pop()
        todo.extend(sub.__subclasses__())
        if not inspect.isabstract(sub) and not sub.__name__.startswith("_"):
            found.add(sub)
    return found


def test_every_detector_is_registered_and_has_a_spec() -> None:
    assert _concrete_detectors() == set(DETECTOR_CLASSES)
    assert set(SPECS) == set(DETECTOR_CLASSES)


detectors = pytest.mark.parametrize("cls", DETECTOR_CLASSES, ids=lambda c: c.__name__)


@detectors
def test_constructor_takes_parameters_only(cls: type[Detector]) -> None:
    detector = make(cls)
    params = inspect.signature(cls.__init__).parameters
    for name, param in params.items():
        if name == "self":
            continue
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        assert name in vars(detector), f"{cls.__name__} does not keep {name}"
    assert not detector.episode_active


@detectors
def test_pickle_round_trip_mid_stream_gives_the_same_future(cls: type[Detector]) -> None:
    series = SPECS[cls].episode()
    middle = len(series) - 4
    detector = make(cls)
    run(detector, series[:middle])
    clone = pickle.loads(pickle.dumps(detector))  # noqa: S301 (our own bytes)
    assert run(clone, series[middle:]) == run(detector, series[middle:])
    assert pickle.dumps(clone) == pickle.dumps(detector)


@detectors
def test_replay_of_a_stored_series_equals_live_scoring(cls: type[Detector]) -> None:
    series = SPECS[cls].episode() + shifted(SPECS[cls].healthy(5, 20), 60)
    live, replayed = make(cls), make(cls)
    live_findings = []
    for x in series:  # live: what it would say, then learn, one reading at a time
        before = pickle.dumps(live)
        predicted = live.score_one(x)
        assert pickle.dumps(live) == before, "score_one changed the state"
        assert live.update(x) == predicted
        live_findings.append(predicted)
    assert run(replayed, series) == live_findings
    assert pickle.dumps(replayed) == pickle.dumps(live)


@detectors
@pytest.mark.parametrize("seed", SEEDS)
def test_a_flat_healthy_series_raises_nothing_over_90_days(cls: type[Detector], seed: int) -> None:
    detector = make(cls)
    assert [f for f in run(detector, SPECS[cls].healthy(seed, 90)) if f] == []
    assert not detector.episode_active


@detectors
def test_false_episodes_on_healthy_series_are_rare(cls: type[Detector]) -> None:
    """At most 1 in 100 healthy 90-day series raises anything (~0.04 per patient-year)."""
    noisy = 0
    for seed in RATE_SEEDS:
        detector = make(cls)
        noisy += any(run(detector, SPECS[cls].healthy(seed, 90)))
    assert noisy <= len(RATE_SEEDS) // 100


@detectors
def test_a_textbook_episode_fires_with_reasons(cls: type[Detector]) -> None:
    detector = make(cls)
    findings = [f for f in run(detector, SPECS[cls].episode()) if f]
    assert findings, f"{cls.__name__} missed its episode"
    first = findings[0]
    assert first.kind == detector.kind
    assert first.source
    assert first.observed
    assert first.baseline
    assert first.window_start <= first.window_end
    assert first.window_start.tzinfo is not None
    assert first.reason.endswith(".")
    assert detector.episode_active


@detectors
def test_the_episode_ends_once_values_are_back_to_normal(cls: type[Detector]) -> None:
    detector = make(cls)
    episode = SPECS[cls].episode()
    run(detector, episode)
    assert detector.episode_active
    calm = [x for x in shifted(SPECS[cls].healthy(3, 20), 60) if x.at > episode[-1].at]
    run(detector, calm)
    assert not detector.episode_active


@detectors
def test_resolve_closes_the_episode(cls: type[Detector]) -> None:
    detector = make(cls)
    run(detector, SPECS[cls].episode())
    detector.resolve()
    assert not detector.episode_active


@detectors
def test_state_stays_within_2_kb(cls: type[Detector]) -> None:
    for series in (SPECS[cls].episode(), healthy(SPECS[cls].measure, seed=1, days=365)):
        detector = make(cls)
        run(detector, series)
        assert len(pickle.dumps(detector, protocol=pickle.HIGHEST_PROTOCOL)) <= MAX_STATE_BYTES


@detectors
def test_deepcopy_is_independent(cls: type[Detector]) -> None:
    detector = make(cls)
    series = SPECS[cls].episode()
    run(detector, series[:10])
    twin = copy.deepcopy(detector)
    run(twin, series[10:])
    assert pickle.dumps(detector) != pickle.dumps(twin) or len(series) == 10
