"""Respiratory decline: oxygen saturation falling while heart rate rises.

A two-measure score. Each day's mean SpO2 and mean heart rate are compared
with the patient's own baselines (level and spread, :class:`Baseline`), and
the day's joint deviation in the direction of an exacerbation is

    z = (clip(spo2_z) + clip(hr_z)) / sqrt(2),
    spo2_z = (spo2_level - spo2_day) / spo2_spread,
    hr_z = (hr_day - hr_level) / hr_spread,

each part clipped to ``±clip`` (one odd reading is not a trend). For a stable
patient with independent noise ``z`` is about standard normal; an
exacerbation drives both parts up together, which neither measure's own
limit sees early. A one-sided CUSUM ``S = max(0, S + z - allowance)`` over
the days with both measures fires when ``S > limit`` and ``z`` was above
``persist`` on the last ``persist_days`` such days (today included, from
today's readings so far). Baselines learn a finished day only while no
episode is open and ``S <= freeze_above``; the episode ends after
``recovery_readings`` finished days with ``z`` below ``persist``.

The detector watches two measures, so an :class:`Observation` must carry its
``measure``; the monitor feeds one instance both.

>>> from datetime import datetime, timedelta, UTC
>>> from hub.domain import Measure
>>> det = RespiratoryDecline(allowance=0.75, limit=4.0, clip=4.0, persist=1.0, persist_days=2,
...                          freeze_above=2.0, severity=Severity.MEDIUM, fading=0.05,
...                          warmup=7, spo2_spread_floor=1.0, hr_spread_floor=3.0,
...                          recovery_readings=3)
>>> day = datetime(2025, 3, 1, 9, tzinfo=UTC)
>>> def both(i, spo2, hr):
...     t = day + timedelta(days=i)
...     det.update(Observation(t, spo2, measure=Measure.OXYGEN_SATURATION))
...     return det.update(Observation(t, hr, measure=Measure.HEART_RATE))
>>> stable = [both(i, 94 + i % 2, 72 + (i % 3 - 1) * 3) for i in range(10)]
>>> any(stable)
False
>>> for i, (spo2, hr) in enumerate([(93, 78), (92, 82), (91, 86), (90, 90)], start=10):
...     finding = both(i, spo2, hr)
...     if finding:
...         break
>>> i, finding.source, finding.observed["spo2"], finding.observed["heart_rate"]
(11, 'model:respiratory_decline', 92.0, 82.0)
"""

from __future__ import annotations

import math

from hub.domain import Measure
from streaming.detectors.base import DAY, EXERTION, Detector, Finding, Observation, local_day
from streaming.detectors.baseline import Baseline
from streaming.exceptions import ReadingError
from streaming.models import AlertKind, Severity

_ROOT2 = math.sqrt(2.0)


class RespiratoryDecline(Detector):
    """Joint CUSUM of falling SpO2 and rising heart rate; see the module docstring."""

    kind = AlertKind.RESPIRATORY_DECLINE
    source = "model:respiratory_decline"
    measures = (Measure.OXYGEN_SATURATION, Measure.HEART_RATE)

    def __init__(
        self,
        *,
        allowance: float,
        limit: float,
        clip: float,
        persist: float,
        persist_days: int,
        freeze_above: float,
        severity: Severity,
        fading: float,
        warmup: int,
        spo2_spread_floor: float,
        hr_spread_floor: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.allowance = allowance
        self.limit = limit
        self.clip = clip
        self.persist = persist
        self.persist_days = persist_days
        self.freeze_above = freeze_above
        self.severity = severity
        self.fading = fading
        self.warmup = warmup
        self.spo2_spread_floor = spo2_spread_floor
        self.hr_spread_floor = hr_spread_floor
        self._spo2 = Baseline(fading=fading, warmup=warmup, spread_floor=spo2_spread_floor)
        self._hr = Baseline(fading=fading, warmup=warmup, spread_floor=hr_spread_floor)
        self._day = -1.0
        self._day_start = 0.0  # POSIX time of the local midnight that began it
        # Today's sums and counts: [spo2 sum, spo2 n, hr sum, hr n].
        self._today = [0.0, 0, 0.0, 0]
        self._s = 0.0
        self._run = 0
        self._rise = 0.0

    @property
    def statistic(self) -> float:
        """The committed CUSUM value (up to the last finished day with both measures)."""
        return self._s

    def _means(self) -> tuple[float, float] | None:
        spo2_sum, spo2_n, hr_sum, hr_n = self._today
        if not spo2_n or not hr_n:
            return None
        return spo2_sum / spo2_n, hr_sum / hr_n

    def _z(self, spo2: float, hr: float) -> float:
        c = self.clip
        zs = (self._spo2.level - spo2) / self._spo2.spread
        zh = (hr - self._hr.level) / self._hr.spread
        return (max(-c, min(c, zs)) + max(-c, min(c, zh))) / _ROOT2

    def _commit(self) -> None:
        """Close the current day (if it had both measures): advance S, learn, or recover."""
        means = self._means()
        if means is None:
            return
        spo2, hr = means
        if not (self._spo2.ready and self._hr.ready):
            self._spo2.update(spo2)
            self._hr.update(hr)
            return
        z = self._z(spo2, hr)
        if self._active:
            self._track(firing=False, calm=z < self.persist, ts=self._day_start)
            if not self._active:
                self._s, self._run = 0.0, 0
            return
        s = max(0.0, self._s + z - self.allowance)
        if self._s == 0.0 and s > 0.0:
            self._rise = self._day_start
        self._s, self._run = s, (self._run + 1 if z > self.persist else 0)
        if s <= self.freeze_above:
            self._spo2.update(spo2)
            self._hr.update(hr)

    def update(self, x: Observation) -> Finding | None:
        ts = x.at.timestamp()
        day = local_day(ts, x)
        if day > self._day:
            if self._day >= 0:
                self._commit()
            self._day, self._today = day, [0.0, 0, 0.0, 0]
            self._day_start = day * DAY - x.offset  # local midnight
        if x.measure is Measure.OXYGEN_SATURATION:
            self._today[0] += x.value
            self._today[1] += 1
        elif x.measure is Measure.HEART_RATE:
            if x.activity in EXERTION:
                return None  # not a resting heart rate: neither learned nor judged
            self._today[2] += x.value
            self._today[3] += 1
        else:
            raise ReadingError(f"{type(self).__name__} does not watch {x.measure}")
        means = self._means()
        if means is None or not (self._spo2.ready and self._hr.ready):
            return None
        z = self._z(*means)
        if self._active:
            return self._finding(x, means, z) if z > self.persist else None
        if self._s + z - self.allowance <= self.limit:
            return None
        if (self._run + 1 if z > self.persist else 0) < self.persist_days:
            return None
        self._track(firing=True, calm=False, ts=self._rise if self._s > 0 else self._day_start)
        return self._finding(x, means, z)

    def _finding(self, x: Observation, means: tuple[float, float], z: float) -> Finding:
        spo2, hr = means
        s = max(0.0, self._s + z - self.allowance)
        level_s, level_h = self._spo2.level, self._hr.level
        return Finding(
            kind=self.kind,
            severity=self.severity,
            source=self.source,
            observed={"spo2": round(spo2, 1), "heart_rate": round(hr, 1), "cusum": round(s, 3)},
            baseline={
                "spo2_level": round(level_s, 2),
                "spo2_spread": round(self._spo2.spread, 2),
                "heart_rate_level": round(level_h, 2),
                "heart_rate_spread": round(self._hr.spread, 2),
                "limit": self.limit,
            },
            window_start=self._window_start(self._day_start),
            window_end=x.at,
            reason=f"SpO2 {spo2:.1f} % is {level_s - spo2:.1f} points below the personal "
            f"baseline of {level_s:.1f} % while heart rate {hr:.0f} beats/min is "
            f"{hr - level_h:.0f} above its baseline of {level_h:.0f}, building up over days "
            f"(joint CUSUM {s:.1f} > {self.limit:g}).",
        )

    def resolve(self) -> None:
        """Close the episode, reset the CUSUM and relearn both baselines."""
        super().resolve()
        self._s, self._run = 0.0, 0
        self._spo2 = Baseline(
            fading=self.fading, warmup=self.warmup, spread_floor=self.spo2_spread_floor
        )
        self._hr = Baseline(
            fading=self.fading, warmup=self.warmup, spread_floor=self.hr_spread_floor
        )
