"""A one-sided CUSUM of a daily value against the patient's personal baseline.

:class:`DailyDrift` holds the machinery; subclasses say which measure, how a
day's readings become the day's value (``aggregate``: the lowest, for
weight; the mean, for blood pressure) and how a finding is worded.

With ``z = (v - level) / spread`` for the day's value ``v``, clipped to at
most ``clip`` (one day, however extreme, adds little), the statistic is
``S = max(0, S + z - allowance)``, committed once per day (the patient's
local day); readings during the day update a tentative value. It fires when
``S > limit`` and the day's value has stayed more than ``persist_spreads``
spreads above the level on the last ``persist_days`` days with readings in a
row (today included), so that a single high day that reverts does not open
an alert. The baseline learns a
finished day only while no episode is open and ``S <= freeze_above`` (a
suspected rise does not become the new normal). The episode ends after
``recovery_readings`` finished days within ``band_spreads`` spreads of the
baseline; ``S`` restarts from 0.

River's ``drift.PageHinkley(mode="up")`` was the other candidate; it
compares against the mean of everything since its last reset, restarts by
itself after each detection (learning the deterioration as the new normal)
and cannot be frozen, so the CUSUM is written out here on top of River's
statistics (:class:`~streaming.detectors.baseline.Baseline`).
"""

from __future__ import annotations

import abc
from typing import ClassVar, Literal

from streaming.detectors.base import EXERTION, Detector, Finding, Observation, local_day
from streaming.detectors.baseline import Baseline
from streaming.models import AlertKind, Severity


class DailyDrift(Detector):
    """Upward drift of a daily value; see the module docstring."""

    source: ClassVar[str]
    #: How a day's readings make the day's value.
    aggregate: ClassVar[Literal["min", "mean"]]

    def __init__(
        self,
        *,
        allowance: float,
        limit: float,
        clip: float,
        persist_days: int,
        persist_spreads: float,
        freeze_above: float,
        severity: Severity,
        fading: float,
        warmup: int,
        spread_floor: float,
        band_spreads: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.allowance = allowance
        self.limit = limit
        self.clip = clip
        self.persist_days = persist_days
        self.persist_spreads = persist_spreads
        self.freeze_above = freeze_above
        self.severity = severity
        self.fading = fading
        self.warmup = warmup
        self.spread_floor = spread_floor
        self.band_spreads = band_spreads
        self._baseline = Baseline(fading=fading, warmup=warmup, spread_floor=spread_floor)
        self._day = -1.0
        self._day_value = 0.0
        self._day_ts = 0.0
        self._day_sum = 0.0
        self._day_n = 0
        self._s = 0.0
        self._run = 0
        self._rise = 0.0

    @property
    def baseline(self) -> Baseline:
        return self._baseline

    @property
    def statistic(self) -> float:
        """The committed CUSUM value (up to the last finished day)."""
        return self._s

    @abc.abstractmethod
    def _describe(
        self, value: float, change: float, level: float, s: float
    ) -> tuple[dict[str, float], str]:
        """Observed values and the reason, for the day's value ``value``."""

    def _z(self) -> float:
        b = self._baseline
        return min((self._day_value - b.level) / b.spread, self.clip)

    def _step(self) -> float:
        return max(0.0, self._s + self._z() - self.allowance)

    def _commit(self) -> None:
        """Close the current day: advance S, learn, or count towards recovery."""
        b = self._baseline
        if not b.ready:
            b.update(self._day_value)
            return
        if self._active:
            calm = self._day_value <= b.level + self.band_spreads * b.spread
            self._track(firing=False, calm=calm, ts=self._day_ts)
            if not self._active:
                self._s, self._run = 0.0, 0
            return
        z = self._z()
        s = max(0.0, self._s + z - self.allowance)
        if self._s == 0.0 and s > 0.0:
            self._rise = self._day_ts
        self._s, self._run = s, (self._run + 1 if z > self.persist_spreads else 0)
        if s <= self.freeze_above:
            b.update(min(self._day_value, b.level + self.clip * b.spread))

    def _add(self, x: Observation, ts: float) -> None:
        """Fold ``x`` into today's value."""
        if self.aggregate == "min":
            if x.value < self._day_value:
                self._day_value, self._day_ts = x.value, ts
            return
        self._day_sum += x.value
        self._day_n += 1
        self._day_value = self._day_sum / self._day_n

    def _accepts(self, x: Observation) -> bool:
        """Whether ``x`` counts at all (subclasses may leave readings out)."""
        return True

    def update(self, x: Observation) -> Finding | None:
        if not self._accepts(x):
            return None
        ts = x.at.timestamp()
        day = local_day(ts, x)
        if day > self._day:
            if self._day >= 0:
                self._commit()
            self._day, self._day_value, self._day_ts = day, x.value, ts
            self._day_sum, self._day_n = x.value, 1
        else:
            self._add(x, ts)
        b = self._baseline
        if not b.ready or self._active:
            return self._finding(x) if self._active and self._firing_today() else None
        z = self._z()
        if self._s + z - self.allowance <= self.limit:  # the CUSUM step stays at or below
            return None
        if (self._run + 1 if z > self.persist_spreads else 0) < self.persist_days:
            return None
        self._track(firing=True, calm=False, ts=self._rise if self._s > 0 else self._day_ts)
        return self._finding(x)

    def _firing_today(self) -> bool:
        b = self._baseline
        return self._day_value > b.level + self.band_spreads * b.spread

    def _finding(self, x: Observation) -> Finding:
        b, s = self._baseline, self._step()
        change = round(self._day_value - b.level, 3)
        observed, reason = self._describe(self._day_value, change, b.level, s)
        return Finding(
            kind=self.kind,
            severity=self.severity,
            source=self.source,
            observed=observed,
            baseline={
                "level": b.level,
                "spread": b.spread,
                "limit": self.limit,
                "allowance": self.allowance,
            },
            window_start=self._window_start(self._day_ts),
            window_end=x.at,
            reason=reason,
        )

    def resolve(self) -> None:
        """Close the episode, reset the CUSUM and relearn the baseline from scratch."""
        super().resolve()
        self._s, self._run = 0.0, 0
        self._baseline = Baseline(
            fading=self.fading, warmup=self.warmup, spread_floor=self.spread_floor
        )


class SystolicDrift(DailyDrift):
    """Upward drift of the daily mean systolic pressure against the personal baseline.

    A hypertensive episode builds over days; the crisis limit (180/120) sees
    it only at its peak. This compares each day's mean systolic pressure with
    the patient's own level and spread.

    >>> from datetime import datetime, timedelta, UTC
    >>> det = SystolicDrift(allowance=1.0, limit=4.0, clip=3.0, persist_days=2,
    ...                     persist_spreads=1.5, freeze_above=2.0, severity=Severity.MEDIUM,
    ...                     fading=0.05, warmup=7, spread_floor=6.0, band_spreads=2.0,
    ...                     recovery_readings=3)
    >>> day = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> usual = [138, 132, 141, 135, 129, 137, 134, 140, 131, 136]
    >>> rising = [140 + 8 * d for d in range(1, 8)]
    >>> for i, sys_ in enumerate(usual + rising):
    ...     finding = det.update(Observation(day + timedelta(days=i), sys_, 85))
    ...     if finding:
    ...         break
    >>> i - len(usual) + 1, finding.observed["systolic"], finding.source
    (3, 164.0, 'model:bp_drift')
    """

    kind = AlertKind.BP_HIGH
    source = "model:bp_drift"
    aggregate = "mean"

    def _describe(
        self, value: float, change: float, level: float, s: float
    ) -> tuple[dict[str, float], str]:
        return (
            {"systolic": round(float(value), 1), "rise": round(change, 1), "cusum": round(s, 3)},
            f"Daily systolic pressure {value:.0f} mmHg has risen {change:.0f} mmHg above the "
            f"personal baseline of {level:.0f} mmHg over days (CUSUM {s:.1f} > {self.limit:g}).",
        )


class HeartRateDrift(DailyDrift):
    """Upward drift of the daily mean resting heart rate against the personal baseline.

    Heart rate climbs over days in a decompensation or an exacerbation, often
    well below the 120 beats/min safety limit. Readings marked as taken
    during or after exertion are left out (see ``EXERTION``).

    >>> from datetime import datetime, timedelta, UTC
    >>> det = HeartRateDrift(allowance=1.5, limit=4.0, clip=3.0, persist_days=2,
    ...                      persist_spreads=1.5, freeze_above=2.0, severity=Severity.MEDIUM,
    ...                      fading=0.05, warmup=7, spread_floor=3.0, band_spreads=2.0,
    ...                      recovery_readings=3)
    >>> day = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> usual = [70, 74, 68, 72, 71, 75, 69, 73, 70, 72]
    >>> rising = [72 + 5 * d for d in range(1, 8)]
    >>> for i, bpm in enumerate(usual + rising):
    ...     finding = det.update(Observation(day + timedelta(days=i), bpm))
    ...     if finding:
    ...         break
    >>> i - len(usual) + 1, finding.observed["heart_rate"], finding.source
    (4, 92.0, 'model:hr_drift')
    >>> det.update(Observation(day + timedelta(days=i, hours=1), 150, activity="active"))
    """

    kind = AlertKind.HR_HIGH
    source = "model:hr_drift"
    aggregate = "mean"

    def _accepts(self, x: Observation) -> bool:
        return x.activity not in EXERTION

    def _describe(
        self, value: float, change: float, level: float, s: float
    ) -> tuple[dict[str, float], str]:
        return (
            {"heart_rate": round(float(value), 1), "rise": round(change, 1), "cusum": round(s, 3)},
            f"Daily resting heart rate {value:.0f} beats/min has risen {change:.0f} above the "
            f"personal baseline of {level:.0f} over days (CUSUM {s:.1f} > {self.limit:g}).",
        )
