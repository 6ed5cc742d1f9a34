"""Which detectors watch which measure, with their parameters from the pathway."""

from __future__ import annotations

from hub.domain import Measure
from streaming.detectors.base import Detector
from streaming.detectors.drift import DailyDrift, HeartRateDrift, SystolicDrift
from streaming.detectors.respiratory import RespiratoryDecline
from streaming.detectors.safety import (
    BloodPressureHigh,
    BloodPressureLow,
    HeartRateHigh,
    HeartRateLow,
    SpO2Low,
)
from streaming.detectors.spo2 import SpO2Drop
from streaming.detectors.weight import WeightDrift, WeightGainRule
from streaming.models import Severity
from streaming.pathways import LevelDriftParams, Pathway

#: Every detector class; the contract test suite runs over each of them.
DETECTOR_CLASSES: tuple[type[Detector], ...] = (
    BloodPressureHigh,
    BloodPressureLow,
    SpO2Low,
    HeartRateHigh,
    HeartRateLow,
    SpO2Drop,
    WeightGainRule,
    WeightDrift,
    RespiratoryDecline,
    SystolicDrift,
    HeartRateDrift,
)

#: Readings of a measure (key) that also go to the joint detectors registered
#: under other measures (values): heart rate feeds the respiratory score.
ALSO_FEEDS: dict[Measure, tuple[Measure, ...]] = {
    Measure.HEART_RATE: (Measure.OXYGEN_SATURATION,),
}


def build_detectors(measure: Measure, pathway: Pathway) -> tuple[Detector, ...]:
    """Fresh detectors for one measure of one patient.

    >>> from streaming.pathways import get_pathway
    >>> [type(d).__name__ for d in build_detectors(Measure.BODY_WEIGHT, get_pathway("CHF"))]
    ['WeightGainRule', 'WeightDrift']
    """
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
                _drift(SystolicDrift, pathway.bp_drift, sev.bp_drift, pathway),
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
                _drift(HeartRateDrift, pathway.hr_drift, sev.hr_drift, pathway),
            )
        case Measure.OXYGEN_SATURATION:
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
                *_respiratory(pathway),
            )
        case Measure.BODY_WEIGHT:
            drift = pathway.weight_drift
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
                ),
                WeightDrift(
                    allowance=drift.allowance,
                    limit=drift.limit,
                    clip=drift.clip,
                    persist_days=drift.persist_days,
                    persist_spreads=drift.persist_spreads,
                    freeze_above=drift.freeze_above,
                    severity=sev.weight_drift,
                    fading=base.weight_fading,
                    warmup=base.weight_warmup,
                    spread_floor=base.weight_spread_floor,
                    band_spreads=base.band_spreads,
                    recovery_readings=rec,
                ),
            )


def _drift(
    cls: type[DailyDrift], params: LevelDriftParams, severity: Severity, pathway: Pathway
) -> DailyDrift:
    """A daily-drift model of a measure whose baseline parameters sit with its own."""
    return cls(
        allowance=params.allowance,
        limit=params.limit,
        clip=params.clip,
        persist_days=params.persist_days,
        persist_spreads=params.persist_spreads,
        freeze_above=params.freeze_above,
        severity=severity,
        fading=params.fading,
        warmup=params.warmup,
        spread_floor=params.spread_floor,
        band_spreads=pathway.baseline.band_spreads,
        recovery_readings=pathway.episodes.recovery_readings,
    )


def _respiratory(pathway: Pathway) -> tuple[Detector, ...]:
    """The joint SpO2/heart-rate score, where the pathway enables it."""
    r, base = pathway.respiratory, pathway.baseline
    if not r.enabled:
        return ()
    return (
        RespiratoryDecline(
            allowance=r.allowance,
            limit=r.limit,
            clip=r.clip,
            persist=r.persist,
            persist_days=r.persist_days,
            freeze_above=r.freeze_above,
            severity=pathway.severity.respiratory_decline,
            fading=base.spo2_fading,
            warmup=base.spo2_warmup,
            spo2_spread_floor=base.spo2_spread_floor,
            hr_spread_floor=r.hr_spread_floor,
            recovery_readings=pathway.episodes.recovery_readings,
        ),
    )
