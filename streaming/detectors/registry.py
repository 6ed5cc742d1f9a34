"""Which detectors watch which measure, with their parameters from the pathway."""

from __future__ import annotations

from hub.domain import Measure
from hub.pathways import Pathway
from streaming.detectors.base import Detector
from streaming.detectors.fused import DeclineScore
from streaming.detectors.safety import MeasureLimit
from streaming.detectors.scores import (
    HeartFailureScore,
    PressureScore,
    RespiratoryScore,
    build_score,
)
from streaming.detectors.spo2 import SpO2Drop
from streaming.detectors.weight import WeightGainRule

#: Every detector class; the contract test suite runs over each of them.
DETECTOR_CLASSES: tuple[type[Detector], ...] = (
    MeasureLimit,
    SpO2Drop,
    WeightGainRule,
    HeartFailureScore,
    RespiratoryScore,
    PressureScore,
)

#: Readings of a measure (key) that also go to the joint detectors registered
#: under other measures (values): heart rate and SpO2 feed the heart-failure
#: score (registered under weight), heart rate the respiratory score.
ALSO_FEEDS: dict[Measure, tuple[Measure, ...]] = {
    Measure.HEART_RATE: (Measure.OXYGEN_SATURATION, Measure.BODY_WEIGHT),
    Measure.OXYGEN_SATURATION: (Measure.BODY_WEIGHT,),
}


def _score(cls: type[DeclineScore], pathway: Pathway, enabled: int) -> tuple[Detector, ...]:
    return (build_score(cls, pathway),) if enabled else ()


def build_detectors(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    """Fresh detectors for one measure of one patient: the pathway's limits of the
    measure (:func:`limit_rules`), then its models.

    >>> from hub.pathways import get_pathway
    >>> [type(d).__name__ for d in build_detectors(Measure.BODY_WEIGHT, get_pathway("CHF"))]
    ['WeightGainRule', 'HeartFailureScore']
    >>> [d.source for d in build_detectors(Measure.OXYGEN_SATURATION, get_pathway("COPD"))]
    ['rule:spo2_low', 'model:respiratory_score']
    """
    return (*limit_rules(measure, pathway), *_own_detectors(measure, pathway))


def limit_rules(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    """A :class:`MeasureLimit` per side of the pathway's ``limits.<measure>``, high first."""
    limits = pathway.limits.get(measure)
    if limits is None:
        return ()
    confirm = pathway.confirm
    return tuple(
        MeasureLimit(
            limits=side,
            unconfirmed_severity=confirm.unconfirmed_severity,
            confirm_readings=confirm.readings,
            confirm_hours=confirm.within_hours,
            recovery_readings=pathway.episodes.recovery_readings,
        )
        for side in limits.sides
    )


def _own_detectors(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    """The models of ``measure`` (and the rules that are not a value's limit)."""
    t, sev, base = pathway.thresholds, pathway.severity, pathway.baseline
    rec = pathway.episodes.recovery_readings
    unconfirmed = pathway.confirm.unconfirmed_severity
    match measure:
        case Measure.BLOOD_PRESSURE:
            return _score(PressureScore, pathway, pathway.pressure.enabled)
        case Measure.OXYGEN_SATURATION:
            drop: tuple[Detector, ...] = ()
            if base.spo2_drop_enabled:
                drop = (
                    SpO2Drop(
                        drop=t.spo2_drop,
                        confirm=base.spo2_drop_confirm,
                        severity=sev.spo2_drop,
                        fading=base.spo2_fading,
                        warmup=base.spo2_warmup,
                        spread_floor=base.spo2_spread_floor,
                        band_spreads=base.band_spreads,
                        recovery_readings=rec,
                    ),
                )
            return (*drop, *_score(RespiratoryScore, pathway, pathway.respiratory.enabled))
        case Measure.BODY_WEIGHT:
            hf = pathway.heart_failure
            if not (hf.enabled or hf.rule_opens):
                return ()  # weight is not watched on this pathway
            return (
                WeightGainRule(
                    short_kg=t.weight_gain_short_kg,
                    short_hours=t.weight_gain_short_hours,
                    week_kg=t.weight_gain_week_kg,
                    week_days=t.weight_gain_week_days,
                    at_once_kg=t.weight_gain_at_once_kg,
                    confirm_days=pathway.confirm.weight_days,
                    unconfirmed_severity=unconfirmed,
                    severity=sev.weight_gain_rule,
                    recovery_readings=rec,
                    opens=bool(pathway.heart_failure.rule_opens),
                ),
                *_score(HeartFailureScore, pathway, pathway.heart_failure.enabled),
            )
    return ()
