"""Safety rules: fixed limits from the pathway, learning nothing.

Every reading beyond a rule's limit fires at once. Whether it carries the
rule's severity depends on *confirmation*: it does when it is beyond the
rule's *at-once* limit (``*_at_once`` in the pathway), or is the
``confirm_readings``-th consecutive in-order reading beyond the limit, each
within ``confirm_hours`` of the previous one, or comes after such a reading in
the same episode. Otherwise it fires with ``unconfirmed_severity`` (the
pathway's ``confirm.unconfirmed_severity``, ``low`` as shipped) and says that
a repeat reading would confirm it: guidelines ask a patient with a high home
reading to measure again, and a single cuff reading after the stairs or a cold
finger on the oximeter is the commonest false alarm, so the coordinator sees
it at once but is not paged for it. With ``confirm_readings = 1`` every
reading beyond the limit is confirmed.

Their only state is the episode, whether it was confirmed, and the count of
consecutive breaking readings, so :meth:`SafetyRule.score_one` judges a late
reading without touching anything.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from hub.alerting import AlertKind, Severity
from hub.measures import Measure, spec
from streaming.detectors.base import EXERTION, Detector, Finding, Observation

_Check = tuple[dict[str, float], dict[str, float], str]


class SafetyRule(Detector):
    """A rule over single readings; subclasses say when one breaks it and why."""

    source: ClassVar[str]

    def __init__(
        self,
        *,
        severity: Severity,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.severity = severity
        self.unconfirmed_severity = unconfirmed_severity
        self.confirm_readings = confirm_readings
        self.confirm_hours = confirm_hours
        self._pending = 0
        self._last = 0.0
        self._confirmed = False

    @abc.abstractmethod
    def _check(self, x: Observation) -> _Check | None:
        """Observed values, limits and reason if ``x`` breaks the rule."""

    @abc.abstractmethod
    def _at_once(self, x: Observation) -> bool:
        """Whether ``x`` (which breaks the rule) is beyond the at-once limit."""

    def _decide(self, x: Observation, check: _Check | None) -> tuple[bool, int]:
        """Whether ``x`` (breaking the rule) is confirmed, and the count of breaking readings."""
        if check is None:
            return False, 0
        ts = x.at.timestamp()
        recent = self._pending > 0 and ts - self._last <= self.confirm_hours * 3600
        n = self._pending + 1 if recent else 1
        return self._confirmed or n >= self.confirm_readings or self._at_once(x), n

    def _finding(self, x: Observation, check: _Check, pending: int, confirmed: bool) -> Finding:
        observed, limits, reason = check
        if not confirmed:
            reason = (
                f"{reason[:-1]}; a single reading so far: a repeat within "
                f"{self.confirm_hours:g} h confirms it."
            )
        elif pending > 1:
            reason = f"{reason[:-1]}, confirmed by {pending} readings in a row."
        return Finding(
            kind=self.kind,
            severity=self.severity if confirmed else self.unconfirmed_severity,
            source=self.source,
            observed=observed,
            baseline=limits,
            window_start=self._window_start(x.at.timestamp()),
            window_end=x.at,
            reason=reason,
            confirmed=confirmed,
        )

    def score_one(self, x: Observation) -> Finding | None:
        check = self._check(x)
        if check is None:
            return None
        confirmed, pending = self._decide(x, check)
        return self._finding(x, check, pending, confirmed)

    def update(self, x: Observation) -> Finding | None:
        check = self._check(x)
        confirmed, pending = self._decide(x, check)
        ts = x.at.timestamp()
        self._pending, self._last = pending, ts if pending else 0.0
        self._track(firing=check is not None, calm=check is None, ts=ts)
        self._confirmed = self._active and (self._confirmed or confirmed)
        return None if check is None else self._finding(x, check, pending, confirmed)

    def resolve(self) -> None:
        super().resolve()
        self._pending, self._last, self._confirmed = 0, 0.0, False


class BloodPressureHigh(SafetyRule):
    """Systolic ≥ ``systolic_high`` or diastolic ≥ ``diastolic_high`` (mmHg).

    At or beyond ``systolic_at_once`` / ``diastolic_at_once`` a single reading
    fires; between the limits it takes ``confirm_readings`` in a row.

    >>> from datetime import datetime, timedelta, UTC
    >>> rule = BloodPressureHigh(systolic_high=180, diastolic_high=120, systolic_at_once=180,
    ...                          diastolic_at_once=120, severity=Severity.CRITICAL,
    ...                          unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                          confirm_hours=24, recovery_readings=3)
    >>> at = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> rule.update(Observation(at, 179.9, 119.9)) is None
    True
    >>> finding = rule.update(Observation(at, 150, 121))
    >>> finding.severity.value, finding.reason
    ('critical', 'Blood pressure 150/121 mmHg is at or above the crisis limit 180/120 mmHg.')
    """

    kind = AlertKind.BP_HIGH
    source = "rule:bp_high"

    def __init__(
        self,
        *,
        systolic_high: float,
        diastolic_high: float,
        systolic_at_once: float,
        diastolic_at_once: float,
        severity: Severity,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(
            severity=severity,
            unconfirmed_severity=unconfirmed_severity,
            confirm_readings=confirm_readings,
            confirm_hours=confirm_hours,
            recovery_readings=recovery_readings,
        )
        self.systolic_high = systolic_high
        self.diastolic_high = diastolic_high
        self.systolic_at_once = systolic_at_once
        self.diastolic_at_once = diastolic_at_once

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

    def _at_once(self, x: Observation) -> bool:
        dia = x.value2
        return x.value >= self.systolic_at_once or (
            dia is not None and dia >= self.diastolic_at_once
        )


class BloodPressureLow(SafetyRule):
    """Systolic strictly below ``systolic_low`` (mmHg); below ``systolic_at_once`` at once.

    >>> from datetime import datetime, timedelta, UTC
    >>> rule = BloodPressureLow(systolic_low=90, systolic_at_once=80, severity=Severity.HIGH,
    ...                         unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                         confirm_hours=24, recovery_readings=3)
    >>> at = datetime(2025, 3, 1, tzinfo=UTC)
    >>> first = rule.update(Observation(at, 86, 55))  # fires at once, unconfirmed
    >>> first.severity.value, first.reason.endswith("a repeat within 24 h confirms it.")
    ('low', True)
    >>> second = rule.update(Observation(at + timedelta(hours=1), 87, 56))
    >>> second.severity.value, second.observed
    ('high', {'systolic': 87})
    """

    kind = AlertKind.BP_LOW
    source = "rule:bp_low"

    def __init__(
        self,
        *,
        systolic_low: float,
        systolic_at_once: float,
        severity: Severity,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(
            severity=severity,
            unconfirmed_severity=unconfirmed_severity,
            confirm_readings=confirm_readings,
            confirm_hours=confirm_hours,
            recovery_readings=recovery_readings,
        )
        self.systolic_low = systolic_low
        self.systolic_at_once = systolic_at_once

    def _check(self, x: Observation) -> _Check | None:
        if x.value >= self.systolic_low:
            return None
        return (
            {"systolic": x.value},
            {"systolic_low": self.systolic_low},
            f"Systolic pressure {x.value:g} mmHg is below {self.systolic_low:g} mmHg.",
        )

    def _at_once(self, x: Observation) -> bool:
        return x.value < self.systolic_at_once


class _Limit(SafetyRule):
    """One value against one strict limit, above or below."""

    label: str
    title: str
    unit: str
    above: bool
    #: Whether readings taken active or around exercise are exempt.
    resting_only: bool = False

    def __init__(
        self,
        *,
        limit: float,
        at_once: float,
        severity: Severity,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(
            severity=severity,
            unconfirmed_severity=unconfirmed_severity,
            confirm_readings=confirm_readings,
            confirm_hours=confirm_hours,
            recovery_readings=recovery_readings,
        )
        self.limit = limit
        self.at_once = at_once

    def _at_once(self, x: Observation) -> bool:
        return x.value > self.at_once if self.above else x.value < self.at_once

    def _check(self, x: Observation) -> _Check | None:
        if (x.value <= self.limit) if self.above else (x.value >= self.limit):
            return None
        if self.resting_only and x.activity in EXERTION:
            return None  # the limits are for a resting heart rate
        side = "above" if self.above else "below"
        return (
            {self.label: x.value},
            {f"{self.label}_{'high' if self.above else 'low'}": self.limit},
            f"{self.title} {x.value:g} {self.unit} is {side} {self.limit:g} {self.unit}.",
        )


class SpO2Low(_Limit):
    """Oxygen saturation strictly below ``limit`` (%).

    >>> from datetime import datetime, UTC
    >>> rule = SpO2Low(limit=88, at_once=85, severity=Severity.HIGH,
    ...                unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                confirm_hours=24, recovery_readings=3)
    >>> rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 84)).reason
    'SpO2 84 % is below 88 %.'
    """

    kind = AlertKind.SPO2_LOW
    source = "rule:spo2_low"
    label = "spo2"
    title = "SpO2"
    unit = "%"
    above = False


class HeartRateHigh(_Limit):
    """Resting heart rate strictly above ``limit`` (beats/min).

    A reading the device marks ``active``, ``during exercise`` or ``after
    exercise`` is not judged; one without a mark counts as resting.

    >>> from datetime import datetime, UTC
    >>> rule = HeartRateHigh(limit=120, at_once=140, severity=Severity.HIGH,
    ...                      unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                      confirm_hours=24, recovery_readings=3)
    >>> at = datetime(2025, 3, 1, tzinfo=UTC)
    >>> rule.update(Observation(at, 120)) is None, rule.update(Observation(at, 125)).severity.value
    (True, 'low')
    >>> rule.update(Observation(at, 121)).reason
    'Heart rate 121 beats/min is above 120 beats/min, confirmed by 2 readings in a row.'
    >>> fresh = HeartRateHigh(limit=120, at_once=140, severity=Severity.HIGH,
    ...                       unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                       confirm_hours=24, recovery_readings=3)
    >>> fresh.update(Observation(at, 141)).severity.value  # beyond the at-once limit
    'high'
    """

    kind = AlertKind.HR_HIGH
    source = "rule:hr_high"
    label = "heart_rate"
    title = "Heart rate"
    unit = "beats/min"
    above = True
    resting_only = True


class HeartRateLow(_Limit):
    """Resting heart rate strictly below ``limit`` (beats/min); exertion is not judged.

    >>> from datetime import datetime, UTC
    >>> rule = HeartRateLow(limit=40, at_once=35, severity=Severity.HIGH,
    ...                     unconfirmed_severity=Severity.LOW, confirm_readings=1,
    ...                     confirm_hours=24, recovery_readings=3)
    >>> rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 38)).baseline
    {'heart_rate_low': 40}
    """

    kind = AlertKind.HR_LOW
    source = "rule:hr_low"
    label = "heart_rate"
    title = "Heart rate"
    unit = "beats/min"
    above = False
    resting_only = True


class MeasureLimit(_Limit):
    """A measure's value strictly above (``above``) or below ``limit``, in its canonical unit.

    The rule of a pathway's ``limits.<measure>``: one per side, its ``kind`` from
    :data:`hub.alerting.LIMIT_KINDS`, its names and units from the measure spec.

    >>> from datetime import datetime, UTC
    >>> rule = MeasureLimit(measure=Measure.HEART_RATE, above=True, kind=AlertKind.HR_HIGH,
    ...                     limit=130, at_once=150, severity=Severity.HIGH,
    ...                     unconfirmed_severity=Severity.LOW, confirm_readings=2,
    ...                     confirm_hours=24, recovery_readings=3)
    >>> finding = rule.update(Observation(datetime(2025, 3, 1, tzinfo=UTC), 151))
    >>> finding.severity.value, finding.observed, finding.reason
    ('high', {'heart_rate': 151}, 'Heart rate 151 beats/min is above 130 beats/min.')
    """

    source = "rule:measure_limit"

    def __init__(
        self,
        *,
        measure: Measure,
        above: bool,
        kind: AlertKind,
        limit: float,
        at_once: float,
        severity: Severity,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(
            limit=limit,
            at_once=at_once,
            severity=severity,
            unconfirmed_severity=unconfirmed_severity,
            confirm_readings=confirm_readings,
            confirm_hours=confirm_hours,
            recovery_readings=recovery_readings,
        )
        described = spec(measure)
        self.measure = measure
        self.above = above
        self.kind = kind
        self.label = described.field.name
        self.title = described.label
        self.unit = described.shown_unit
