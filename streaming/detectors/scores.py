"""The fused scores Lastmile runs: heart failure, COPD, blood pressure.

Each is a :class:`~streaming.detectors.fused.DeclineScore` with its signals;
:func:`build_score` makes one from a pathway's settings.
"""

from __future__ import annotations

from hub.alerting import AlertKind
from hub.domain import Measure
from hub.pathway_params import ScoreParams
from hub.pathways import Pathway
from streaming.detectors.fused import DeclineScore, Signal

_WEIGHT = Signal(Measure.BODY_WEIGHT, rising=True, lowest=True, primary=True,
                 label="weight", unit="kg", device_bias=True)  # fmt: skip
_SYSTOLIC = Signal(Measure.BLOOD_PRESSURE, rising=True, lowest=False, primary=True,
                   label="systolic", unit="mmHg")  # fmt: skip


def _hr(primary: bool) -> Signal:
    return Signal(Measure.HEART_RATE, rising=True, lowest=False, primary=primary,
                  label="heart_rate", unit="beats/min")  # fmt: skip


def _spo2(primary: bool) -> Signal:
    return Signal(Measure.OXYGEN_SATURATION, rising=False, lowest=False, primary=primary,
                  label="spo2", unit="%")  # fmt: skip


class HeartFailureScore(DeclineScore):
    """Fluid building up: daily lowest weight, supported by resting heart rate and SpO2.

    Ten ordinary days, then a gain of 0.25 kg a day. Ten days say little of
    the patient's own spread, so a typical patient's (0.5 kg) is assumed:
    the alert comes on the ninth day of the gain, 2 kg above the baseline.

    >>> from datetime import datetime, timedelta, UTC
    >>> from streaming.detectors.base import Observation
    >>> from hub.pathways import get_pathway
    >>> det = build_score(HeartFailureScore, get_pathway("CHF"))
    >>> day = datetime(2025, 3, 1, 7, tzinfo=UTC)
    >>> usual = [80.2, 79.8, 80.1, 79.9, 80.3, 79.7, 80.0, 80.1, 79.9, 80.2]
    >>> gain = [80.0 + 0.25 * d for d in range(1, 15)]
    >>> for i, kg in enumerate(usual + gain):
    ...     w = Observation(day + timedelta(days=i), kg, measure=Measure.BODY_WEIGHT)
    ...     if finding := det.update(w):
    ...         break
    >>> i - len(usual) + 1, finding.severity.value, finding.observed["weight_change"]
    (9, 'medium', 2.0)
    """

    kind = AlertKind.WEIGHT_GAIN
    source = "model:heart_failure_score"
    signals = (_WEIGHT, _hr(primary=False), _spo2(primary=False))
    measures = (Measure.BODY_WEIGHT, Measure.HEART_RATE, Measure.OXYGEN_SATURATION)


class RespiratoryScore(DeclineScore):
    """A COPD exacerbation building up: SpO2 falling while the resting heart rate rises.

    >>> from datetime import datetime, timedelta, UTC
    >>> from streaming.detectors.base import Observation
    >>> from hub.pathways import get_pathway
    >>> det = build_score(RespiratoryScore, get_pathway("COPD"))
    >>> day = datetime(2025, 3, 1, 9, tzinfo=UTC)
    >>> spo2 = [93, 94, 93, 92, 94, 93, 93, 94, 92, 93] + [93 - d for d in range(1, 8)]
    >>> hr = [78, 80, 77, 79, 81, 78, 80, 79, 78, 80] + [80 + 4 * d for d in range(1, 8)]
    >>> for i, (s, h) in enumerate(zip(spo2, hr)):
    ...     at = day + timedelta(days=i)
    ...     found = [det.update(Observation(at, s, measure=Measure.OXYGEN_SATURATION)),
    ...              det.update(Observation(at, h, measure=Measure.HEART_RATE))]
    ...     if finding := found[0] or found[1]:
    ...         break
    >>> i - 9, finding.source, finding.observed["spo2"], finding.observed["heart_rate"]
    (3, 'model:respiratory_score', 90.0, 92.0)
    """

    kind = AlertKind.RESPIRATORY_DECLINE
    source = "model:respiratory_score"
    signals = (_spo2(primary=True), _hr(primary=True))
    measures = (Measure.OXYGEN_SATURATION, Measure.HEART_RATE)


class PressureScore(DeclineScore):
    """A hypertensive episode building over days: the daily mean systolic pressure.

    >>> from datetime import datetime, timedelta, UTC
    >>> from streaming.detectors.base import Observation
    >>> from hub.pathways import get_pathway
    >>> det = build_score(PressureScore, get_pathway("HTN"))
    >>> day = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> usual = [138, 132, 141, 135, 129, 137, 134, 140, 131, 136]
    >>> rising = [140 + 8 * d for d in range(1, 8)]
    >>> for i, sys_ in enumerate(usual + rising):
    ...     at = day + timedelta(days=i)
    ...     if finding := det.update(Observation(at, sys_, 85, Measure.BLOOD_PRESSURE)):
    ...         break
    >>> i - len(usual) + 1, finding.observed["systolic"], finding.kind.value
    (4, 172.0, 'bp_high')
    """

    kind = AlertKind.BP_HIGH
    source = "model:pressure_score"
    signals = (_SYSTOLIC,)


def build_score(cls: type[DeclineScore], pathway: Pathway) -> DeclineScore:
    """``cls`` with its settings from ``pathway``."""
    p: ScoreParams
    weights: tuple[float, ...]
    floors: tuple[float, ...]
    priors: tuple[float, ...]
    if cls is HeartFailureScore:
        hf = p = pathway.heart_failure
        weights = (1.0, hf.hr_weight, hf.spo2_weight)
        floors = (hf.weight_floor, hf.hr_floor, hf.spo2_floor)
        priors = (hf.weight_prior, hf.hr_prior, hf.spo2_prior)
    elif cls is RespiratoryScore:
        r = p = pathway.respiratory
        weights, floors = (r.spo2_weight, r.hr_weight), (r.spo2_floor, r.hr_floor)
        priors = (r.spo2_prior, r.hr_prior)
    else:
        bp = p = pathway.pressure
        weights, floors, priors = (1.0,), (bp.systolic_floor,), (bp.systolic_prior,)
    return cls(
        weights=weights,
        floors=floors,
        priors=priors,
        gate=p.gate,
        allowance=p.allowance,
        limit=p.limit,
        escalate=p.escalate,
        clip=p.clip,
        persist=p.persist,
        persist_days=p.persist_days,
        fading=p.fading,
        spread_fading=p.spread_fading,
        warmup=p.warmup,
        hold_days=p.hold_days,
        settle=p.settle,
        relearn_days=p.relearn_days,
        severity=p.severity,
        escalated_severity=p.escalated_severity,
        recovery_readings=pathway.episodes.recovery_readings,
    )
