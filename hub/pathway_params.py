"""The tables a care pathway is made of (``hub/pathways.toml``), as frozen types.

:mod:`hub.pathways` reads the file into them; each table of a pathway
(``thresholds``, ``severity``, ``confirm``, ``episodes``, ``baseline``, the
scores, ``adherence``) is one of these, and :func:`number` and
:func:`severity` read their values. The per-measure safety limits
(``limits.<measure>``) are :mod:`hub.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.alerting import Severity
from hub.exceptions import PathwayError


def number(value: object, kind: type[float] | type[int], where: str) -> float:
    """``value`` as a ``kind``, or :class:`PathwayError` naming ``where``.

    >>> number(2, float, "x"), number(3.0, int, "x")
    (2.0, 3)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PathwayError(f"{where}: expected a number, got {value!r}")
    if kind is int and value != int(value):
        raise PathwayError(f"{where}: expected a whole number, got {value!r}")
    return kind(value)


def severity(value: object, where: str) -> Severity:
    """``value`` as a :class:`Severity`, or :class:`PathwayError` naming ``where``."""
    try:
        return Severity(str(value) if isinstance(value, str) else "")
    except ValueError:
        raise PathwayError(f"{where}: unknown severity {value!r}") from None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The limits that are not a value's (those are :mod:`hub.limits`): a gain of
    weight over a window and a drop of SpO2 below the personal baseline, both
    inclusive."""

    spo2_drop: float
    weight_gain_short_kg: float
    weight_gain_short_hours: float
    weight_gain_week_kg: float
    weight_gain_week_days: float
    weight_gain_at_once_kg: float


@dataclass(frozen=True, slots=True)
class Severities:
    """The severity each rule or model reports (a value limit's: :mod:`hub.limits`)."""

    spo2_drop: Severity
    weight_gain_rule: Severity
    missed_readings: Severity
    device_never_active: Severity
    frequency_drop: Severity
    device_problem: Severity


@dataclass(frozen=True, slots=True)
class Confirmation:
    """How many readings in a row a safety rule needs (beyond its at-once limit: one)."""

    readings: int
    within_hours: float
    weight_days: int
    #: Severity of a finding beyond a safety limit that is not (yet) confirmed.
    unconfirmed_severity: Severity
    #: Whether such findings reach the worklist at all (1) or wait for the
    #: confirming reading (0).
    report_unconfirmed: int


@dataclass(frozen=True, slots=True)
class Episodes:
    recovery_readings: int
    stale_after_hours: float


@dataclass(frozen=True, slots=True)
class BaselineParams:
    spo2_fading: float
    spo2_warmup: int
    spo2_spread_floor: float
    spo2_drop_confirm: int
    band_spreads: float
    spo2_drop_enabled: int


@dataclass(frozen=True, slots=True)
class ScoreParams:
    """A fused score's settings (see ``streaming.detectors.fused``)."""

    enabled: int
    allowance: float
    limit: float
    escalate: float
    clip: float
    persist: float
    persist_days: int
    fading: float
    spread_fading: float
    warmup: int
    hold_days: int
    settle: float
    relearn_days: int
    gate: float
    severity: Severity
    escalated_severity: Severity


@dataclass(frozen=True, slots=True)
class HeartFailureParams(ScoreParams):
    rule_opens: int
    weight_floor: float
    weight_prior: float
    hr_weight: float
    hr_floor: float
    hr_prior: float
    spo2_weight: float
    spo2_floor: float
    spo2_prior: float


@dataclass(frozen=True, slots=True)
class RespiratoryParams(ScoreParams):
    spo2_weight: float
    spo2_floor: float
    spo2_prior: float
    hr_weight: float
    hr_floor: float
    hr_prior: float


@dataclass(frozen=True, slots=True)
class PressureParams(ScoreParams):
    systolic_floor: float
    systolic_prior: float


@dataclass(frozen=True, slots=True)
class AdherenceParams:
    grace_hours: float
    activation_days: float
    recent_days: float
    previous_days: float
    ratio: float
    min_previous: int
    recovered_ratio: float
    low_battery_percent: float
    battery_recent_hours: float
