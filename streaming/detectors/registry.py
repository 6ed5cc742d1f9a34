"""Which detectors watch which measure, with their parameters from the pathway."""

from __future__ import annotations

from hub.alerting import LIMIT_KINDS
from hub.domain import Measure
from hub.pathways import Pathway
from streaming.detectors.base import Detector
from streaming.detectors.fused import DeclineScore
from streaming.detectors.safety import (
    BloodPressureHigh,
    BloodPressureLow,
    HeartRateHigh,
    HeartRateLow,
    MeasureLimit,
    SpO2Low,
)
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
    BloodPressureHigh,
    BloodPressureLow,
    SpO2Low,
    HeartRateHigh,
    HeartRateLow,
    SpO2Drop,
    WeightGainRule,
    HeartFailureScore,
    RespiratoryScore,
    PressureScore,
    MeasureLimit,
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
    """Fresh detectors for one measure of one patient: its own, then the
    pathway's per-measure limits (:func:`limit_rules`).

    >>> from hub.pathways import get_pathway
    >>> [type(d).__name__ for d in build_detectors(Measure.BODY_WEIGHT, get_pathway("CHF"))]
    ['WeightGainRule', 'HeartFailureScore']
    >>> [type(d).__name__ for d in build_detectors(Measure.OXYGEN_SATURATION, get_pathway("COPD"))]
    ['SpO2Low', 'RespiratoryScore']
    """
    return (*_own_detectors(measure, pathway), *limit_rules(measure, pathway))


def limit_rules(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    """A :class:`MeasureLimit` per side of the pathway's ``limits.<measure>``, if it has one."""
    limits = pathway.limits.get(measure)
    if limits is None:
        return ()
    confirm = pathway.confirm
    return tuple(
        MeasureLimit(
            measure=measure,
            above=above,
            kind=LIMIT_KINDS[measure, above],
            limit=limit,
            at_once=at_once,
            severity=limits.severity,
            unconfirmed_severity=confirm.unconfirmed_severity,
            confirm_readings=confirm.readings,
            confirm_hours=confirm.within_hours,
            recovery_readings=pathway.episodes.recovery_readings,
        )
        for above, limit, at_once in (
            (True, limits.high, limits.high_at_once),
            (False, limits.low, limits.low_at_once),
        )
    )


def _own_detectors(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    t, sev, base = pathway.thresholds, pathway.severity, pathway.baseline
    rec = pathway.episodes.recovery_readings
    n, hours = pathway.confirm.readings, pathway.confirm.within_hours
    unconfirmed = pathway.confirm.unconfirmed_severity
    match measure:
        case Measure.BLOOD_PRESSURE:
            return (
                BloodPressureHigh(
                    systolic_high=t.systolic_high,
                    diastolic_high=t.diastolic_high,
                    systolic_at_once=t.systolic_high_at_once,
                    diastolic_at_once=t.diastolic_high_at_once,
                    severity=sev.bp_high,
                    unconfirmed_severity=unconfirmed,
                    confirm_readings=n,
                    confirm_hours=hours,
                    recovery_readings=rec,
                ),
                BloodPressureLow(
                    systolic_low=t.systolic_low,
                    systolic_at_once=t.systolic_low_at_once,
                    severity=sev.bp_low,
                    unconfirmed_severity=unconfirmed,
                    confirm_readings=n,
                    confirm_hours=hours,
                    recovery_readings=rec,
                ),
                *_score(PressureScore, pathway, pathway.pressure.enabled),
            )
        case Measure.HEART_RATE:
            return (
                HeartRateHigh(
                    limit=t.hr_high,
                    at_once=t.hr_high_at_once,
                    severity=sev.hr_high,
                    unconfirmed_severity=unconfirmed,
                    confirm_readings=n,
                    confirm_hours=hours,
                    recovery_readings=rec,
                ),
                HeartRateLow(
                    limit=t.hr_low,
                    at_once=t.hr_low_at_once,
                    severity=sev.hr_low,
                    unconfirmed_severity=unconfirmed,
                    confirm_readings=n,
                    confirm_hours=hours,
                    recovery_readings=rec,
                ),
            )
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
            return (
                SpO2Low(
                    limit=t.spo2_low,
                    at_once=t.spo2_low_at_once,
                    severity=sev.spo2_low,
                    unconfirmed_severity=unconfirmed,
                    confirm_readings=n,
                    confirm_hours=hours,
                    recovery_readings=rec,
                ),
                *drop,
                *_score(RespiratoryScore, pathway, pathway.respiratory.enabled),
            )
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
