"""Safety rules: fixed limits from the pathway, learning nothing.

One :class:`MeasureLimit` per side of a pathway's ``limits.<measure>``
(:mod:`hub.limits`): blood pressure high and low, SpO2 low, heart rate high
and low, fever and hypothermia are each one of them.

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

from hub.alerting import LIMIT_NAMES, Severity
from hub.limits import SideLimits
from hub.measures import spec
from streaming.detectors.base import EXERTION, Detector, Finding, Observation

_Check = tuple[dict[str, float], dict[str, float], str]


class SafetyRule(Detector):
    """A rule over single readings; subclasses say when one breaks it and why."""

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


class MeasureLimit(SafetyRule):
    """One side of a measure's limits: a reading breaks it when any limited value is
    beyond its limit (``limits.inclusive``: at it too), in the measure's canonical unit.

    Its alert kind is the side's (:data:`hub.alerting.LIMIT_KINDS`), its source
    ``rule:<kind>``, its names and units the measure spec's. A measure the spec
    judges at rest only (heart rate) is not judged on a reading taken during or
    after exertion; one without a mark counts as resting.

    >>> from datetime import datetime, timedelta, UTC
    >>> from hub.pathways import get_pathway
    >>> from hub.measures import Measure
    >>> high, low = get_pathway("default").limits[Measure.BLOOD_PRESSURE].sides
    >>> def rule(side: SideLimits) -> MeasureLimit:
    ...     return MeasureLimit(limits=side, unconfirmed_severity=Severity.LOW,
    ...                         confirm_readings=2, confirm_hours=24, recovery_readings=3)
    >>> crisis, at = rule(high), datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> crisis.update(Observation(at, 179.9, 119.9)) is None
    True
    >>> finding = crisis.update(Observation(at, 150, 120))  # inclusive
    >>> finding.source, finding.severity.value, finding.reason
    ('rule:bp_high', 'low', 'Blood pressure 150/120 mmHg is at or above the crisis limit \
180/120 mmHg; a single reading so far: a repeat within 24 h confirms it.')
    >>> finding = crisis.update(Observation(at + timedelta(hours=1), 181, 80))
    >>> finding.severity.value, finding.observed
    ('critical', {'systolic': 181, 'diastolic': 80})
    >>> finding.baseline
    {'systolic_high': 180.0, 'diastolic_high': 120.0}
    >>> hypotension = rule(low)
    >>> first = hypotension.update(Observation(at, 79, 55))  # beyond the at-once limit
    >>> first.severity.value, first.observed, first.reason
    ('high', {'systolic': 79}, 'Systolic pressure 79 mmHg is below 90 mmHg.')
    """

    def __init__(
        self,
        *,
        limits: SideLimits,
        unconfirmed_severity: Severity,
        confirm_readings: int,
        confirm_hours: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(
            severity=limits.severity,
            unconfirmed_severity=unconfirmed_severity,
            confirm_readings=confirm_readings,
            confirm_hours=confirm_hours,
            recovery_readings=recovery_readings,
        )
        self.limits = limits
        self.kind = limits.kind
        self.source = f"rule:{limits.kind.value}"

    def _at_once(self, x: Observation) -> bool:
        values = (x.value, x.value2)
        return any(
            (v := values[b.index]) is not None and self.limits.beyond(v, b.at_once)
            for b in self.limits.bounds
        )

    def _check(self, x: Observation) -> _Check | None:
        side, values = self.limits, (x.value, x.value2)
        seen = [(b, values[b.index]) for b in side.bounds]
        if not any(v is not None and side.beyond(v, b.limit) for b, v in seen):
            return None
        described = spec(side.measure)
        if described.resting and x.activity in EXERTION:
            return None
        unit = described.shown_unit
        compared = ("at or " if side.inclusive else "") + ("above" if side.above else "below")
        if len(seen) == 1:
            ((bound, value),) = seen
            title = described.title_of(described.fields[bound.index])
            reason = f"{title} {value:g} {unit} is {compared} {bound.limit:g} {unit}."
        else:
            shown = "/".join(f"{v:g}" for _, v in seen if v is not None)
            limits = "/".join(f"{b.limit:g}" for b, _ in seen)
            name = LIMIT_NAMES.get(side.kind, "limit")
            reason = f"{described.label} {shown} {unit} is {compared} the {name} {limits} {unit}."
        return (
            {b.key: v for b, v in seen if v is not None},
            {f"{b.key}_{side.side}": b.limit for b, _ in seen},
            reason,
        )
