"""Safety rules: fixed limits from the pathway that fire at once, learning nothing.

Their only state is the episode (open, and how many calm readings since), so
they can also judge a late reading without touching anything.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from streaming.detectors.base import Detector, Finding, Observation
from streaming.models import AlertKind, Severity

_Check = tuple[dict[str, float], dict[str, float], str]


class SafetyRule(Detector):
    """A rule over a single reading; subclasses say when it fires and why."""

    source: ClassVar[str]

    def __init__(self, *, severity: Severity, recovery_readings: int) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.severity = severity

    @abc.abstractmethod
    def _check(self, x: Observation) -> _Check | None:
        """Observed values, limits and reason if ``x`` breaks the rule."""

    def _finding(self, x: Observation, check: _Check) -> Finding:
        observed, limits, reason = check
        return Finding(
            kind=self.kind,
            severity=self.severity,
            source=self.source,
            observed=observed,
            baseline=limits,
            window_start=self._window_start(x.at.timestamp()),
            window_end=x.at,
            reason=reason,
        )

    def score_one(self, x: Observation) -> Finding | None:
        check = self._check(x)
        return None if check is None else self._finding(x, check)

    def update(self, x: Observation) -> Finding | None:
        check = self._check(x)
        self._track(firing=check is not None, calm=True, ts=x.at.timestamp())
        return None if check is None else self._finding(x, check)


class BloodPressureHigh(SafetyRule):
    """Systolic ≥ ``systolic_high`` or diastolic ≥ ``diastolic_high`` (mmHg).

    >>> from datetime import datetime, UTC
    >>> rule = BloodPressureHigh(systolic_high=180, diastolic_high=120,
    ...                          severity=Severity.CRITICAL, recovery_readings=3)
    >>> at = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> rule.update(Observation(at, 179.9, 119.9)) is None
    True
    >>> rule.update(Observation(at, 150, 121)).reason
    'Blood pressure 150/121 mmHg is at or above the crisis limit 180/120 mmHg.'
    """

    kind = AlertKind.BP_HIGH
    source = "rule:bp_high"

    def __init__(
        self,
        *,
        systolic_high: float,
        diastolic_high: float,
        severity: Severity,
        recovery_readings: int,
    ) -> None:
        super().__init__(severity=severity, recovery_readings=recovery_readings)
        self.systolic_high = systolic_high
        self.diastolic_high = diastolic_high

    def _check(self, x: Observation) -> _Check | None:
        dia = x.value2
        if x.value < self.systolic_high and (dia is None or dia < self.diastolic_high):
            return None
        observed = {"systolic": x.value} | ({} if dia is None else {"diastolic": dia})
        shown = f"{x.value:g}" if dia is None else f"{x.value:g}/{dia:g}"
        return (
            observed,
            {"systolic_high": self.systolic_high, "diastolic_high": self.diastolic_high},
            f"Blood pressure {shown} mmHg is at or above the crisis limit "
            f"{self.systolic_high:g}/{self.diastolic_high:g} mmHg.",
        )


class BloodPressureLow(SafetyRule):
    """Systolic strictly below ``systolic_low`` (mmHg).

    >>> from datetime import datetime, UTC
    >>> rule = BloodPressureLow(systolic_low=90, severity=Severity.HIGH, recovery_readings=3)
    >>> rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 86, 55)).observed
    {'systolic': 86}
    """

    kind = AlertKind.BP_LOW
    source = "rule:bp_low"

    def __init__(self, *, systolic_low: float, severity: Severity, recovery_readings: int) -> None:
        super().__init__(severity=severity, recovery_readings=recovery_readings)
        self.systolic_low = systolic_low

    def _check(self, x: Observation) -> _Check | None:
        if x.value >= self.systolic_low:
            return None
        return (
            {"systolic": x.value},
            {"systolic_low": self.systolic_low},
            f"Systolic pressure {x.value:g} mmHg is below {self.systolic_low:g} mmHg.",
        )


class _Limit(SafetyRule):
    """One value against one strict limit, above or below."""

    label: ClassVar[str]
    title: ClassVar[str]
    unit: ClassVar[str]
    above: ClassVar[bool]

    def __init__(self, *, limit: float, severity: Severity, recovery_readings: int) -> None:
        super().__init__(severity=severity, recovery_readings=recovery_readings)
        self.limit = limit

    def _check(self, x: Observation) -> _Check | None:
        if (x.value <= self.limit) if self.above else (x.value >= self.limit):
            return None
        side = "above" if self.above else "below"
        return (
            {self.label: x.value},
            {f"{self.label}_{'high' if self.above else 'low'}": self.limit},
            f"{self.title} {x.value:g} {self.unit} is {side} {self.limit:g} {self.unit}.",
        )


class SpO2Low(_Limit):
    """Oxygen saturation strictly below ``limit`` (%).

    >>> from datetime import datetime, UTC
    >>> rule = SpO2Low(limit=88, severity=Severity.HIGH, recovery_readings=3)
    >>> rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 86)).reason
    'SpO2 86 % is below 88 %.'
    """

    kind = AlertKind.SPO2_LOW
    source = "rule:spo2_low"
    label = "spo2"
    title = "SpO2"
    unit = "%"
    above = False


class HeartRateHigh(_Limit):
    """Heart rate strictly above ``limit`` (beats/min).

    >>> from datetime import datetime, UTC
    >>> rule = HeartRateHigh(limit=120, severity=Severity.HIGH, recovery_readings=3)
    >>> at = datetime(2025, 3, 1, tzinfo=UTC)
    >>> rule.update(Observation(at, 120)) is None, rule.update(Observation(at, 121)).source
    (True, 'rule:hr_high')
    """

    kind = AlertKind.HR_HIGH
    source = "rule:hr_high"
    label = "heart_rate"
    title = "Heart rate"
    unit = "beats/min"
    above = True


class HeartRateLow(_Limit):
    """Heart rate strictly below ``limit`` (beats/min).

    >>> from datetime import datetime, UTC
    >>> rule = HeartRateLow(limit=40, severity=Severity.HIGH, recovery_readings=3)
    >>> rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 38)).baseline
    {'heart_rate_low': 40}
    """

    kind = AlertKind.HR_LOW
    source = "rule:hr_low"
    label = "heart_rate"
    title = "Heart rate"
    unit = "beats/min"
    above = False
