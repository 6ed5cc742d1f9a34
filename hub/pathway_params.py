"""The tables a care pathway is made of (``hub/pathways.toml``), as frozen types.

:mod:`hub.pathways` reads the file into them; each table of a pathway
(``thresholds``, ``severity``, ``confirm``, ``episodes``, ``baseline``, the
scores, ``adherence``, ``limits.<measure>``) is one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.alerting import Severity


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Safety limits; ``*_high`` of blood pressure and the drop are inclusive."""

    systolic_high: float
    diastolic_high: float
    systolic_low: float
    spo2_low: float
    spo2_drop: float
    hr_high: float
    hr_low: float
    weight_gain_short_kg: float
    weight_gain_short_hours: float
    weight_gain_week_kg: float
    weight_gain_week_days: float
    systolic_high_at_once: float
    diastolic_high_at_once: float
    systolic_low_at_once: float
    spo2_low_at_once: float
    hr_high_at_once: float
    hr_low_at_once: float
    weight_gain_at_once_kg: float


@dataclass(frozen=True, slots=True)
class Severities:
    """The severity each rule or model reports."""

    bp_high: Severity
    bp_low: Severity
    spo2_low: Severity
    spo2_drop: Severity
    hr_high: Severity
    hr_low: Severity
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


@dataclass(frozen=True, slots=True)
class MeasureLimits:
    """Safety limits of one measure's value, from the pathway's ``[<pathway>.limits.<measure>]``.

    Keyed by measure, in the measure's canonical unit: a value strictly above
    ``high`` or below ``low`` breaks the limit (confirmed as the safety rules
    are, see ``streaming.detectors.safety``); beyond ``*_at_once`` one reading
    is enough. A measure without such a table has no such rule on the pathway.
    """

    high: float
    high_at_once: float
    low: float
    low_at_once: float
    severity: Severity
