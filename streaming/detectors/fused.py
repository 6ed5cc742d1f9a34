"""One per-patient score of deterioration, fused from several daily signals.

A :class:`DeclineScore` watches a few measures of one patient (the
*signals*: for heart failure the daily weight, the resting heart rate and
the SpO2; for COPD the SpO2 and the heart rate). Each signal has its own
robust personal baseline (:class:`~streaming.detectors.robust.RobustBaseline`),
so its day's value becomes ``z``, a deviation in that patient's own spreads,
signed so that the worrying direction is positive. The day's evidence is

    ``Z = sum(w_i * clip(z_i)) + sum(w_j * max(0, z_j - gate))``

over the *primary* signals ``i`` (counted both ways: a weight below baseline
argues against fluid) and the *supporting* signals ``j`` (counted only well
past their own noise, ``gate`` spreads, so that their day-to-day wobble adds
almost nothing). A one-sided CUSUM accumulates it,
``S = max(0, S + Z - allowance)``, committed once per local day; readings
during the day update a tentative value, so an alert comes with the reading
that shows it (Page 1954, Biometrika 41:100; on standardised home weights
as in Gyllensten et al. 2016, JMIR mHealth 4:e77). A day without any primary
value leaves ``S`` as it was: a patient who stops weighing neither talks the
score down nor raises an alert on supporting signals alone.

An episode opens when the tentative ``S`` exceeds ``limit`` and ``Z`` has
stayed above ``persist`` on the last ``persist_days`` days with a primary
value (a single heavy day does not alert), at ``severity`` (at
``escalated_severity`` if ``S`` is already past ``escalate``). It escalates
to ``escalated_severity`` when the signals rise again *beyond the levels of
the day it opened*: the same CUSUM, against those levels, passes ``limit``
(a holiday's gain that opened an alert does not hide a decompensation that
starts on top of it). One alert per episode: while it is open the detector
keeps reporting and the engine reports only rises in severity.

The baselines learn a finished day only while ``S`` is at most half the
limit (a suspected rise is not learned). While an episode is open they are
frozen for ``hold_days``; after that they *follow* the values at ``settle``
a day, so a new settled level (a holiday's kilograms that stay, a new diuretic
dose) becomes the patient's normal and the episode ends, while a later rise
on top of it opens a new one. The episode ends after ``recovery_days``
finished days with ``Z`` below ``persist`` (back near the baseline); ``S``
restarts from 0. When a signal's device changes (a new scale has its own
bias) never seen before, that signal's level is learned again over
``relearn_days`` days and it adds no evidence meanwhile.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from hub.alerting import Severity
from hub.domain import Measure
from streaming.detectors.base import DAY, EXERTION, Detector, Finding, Observation, local_day
from streaming.detectors.robust import RobustBaseline


@dataclass(frozen=True, slots=True)
class Signal:
    """One daily value a score watches, and how it counts."""

    measure: Measure
    #: True if a rise is worrying, False if a fall is.
    rising: bool
    #: The day's value is its lowest reading (weight: least clothes and food)
    #: rather than the mean.
    lowest: bool
    #: Counted both ways (primary) or only past ``gate`` spreads (supporting).
    primary: bool
    label: str
    unit: str
    #: Devices of this signal differ in bias (scales): a device never seen
    #: before makes the level be learned again.
    device_bias: bool = False


class DeclineScore(Detector):
    """A fused CUSUM over daily signals; see the module docstring."""

    #: Each signal's position by measure (set from ``signals`` for each subclass).
    _slots: ClassVar[dict[Measure | None, int]] = {}

    @property
    @abc.abstractmethod
    def signals(self) -> tuple[Signal, ...]:
        """The signals watched, primary first; subclasses set them."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        signals = vars(cls).get("signals")
        if isinstance(signals, tuple):
            cls._slots = {sig.measure: i for i, sig in enumerate(signals)}

    def __init__(
        self,
        *,
        weights: tuple[float, ...],
        floors: tuple[float, ...],
        priors: tuple[float, ...],
        gate: float,
        allowance: float,
        limit: float,
        escalate: float,
        clip: float,
        persist: float,
        persist_days: int,
        fading: float,
        spread_fading: float,
        warmup: int,
        hold_days: int,
        settle: float,
        relearn_days: int,
        severity: Severity,
        escalated_severity: Severity,
        recovery_readings: int,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.weights = weights
        self.floors = floors
        self.priors = priors
        self.gate = gate
        self.allowance = allowance
        self.limit = limit
        self.escalate = escalate
        self.clip = clip
        self.persist = persist
        self.persist_days = persist_days
        self.fading = fading
        self.spread_fading = spread_fading
        self.warmup = warmup
        self.hold_days = hold_days
        self.settle = settle
        self.relearn_days = relearn_days
        self.severity = severity
        self.escalated_severity = escalated_severity
        n = len(self.signals)
        self._base = [
            RobustBaseline(
                fading=fading, warmup=warmup, floor=f, prior=p, spread_fading=spread_fading
            )
            for f, p in zip(floors, priors, strict=True)
        ]
        self._day = -1.0
        self._day_start = 0.0
        self._sum = [0.0] * n
        self._count = [0] * n
        self._devices: list[tuple[int, ...]] = [()] * n
        self._s = 0.0
        self._run = 0
        self._rise = 0.0
        self._opened = 0.0
        self._note = ""
        # The episode's reference levels and its escalation CUSUM (see _escalation).
        self._ref: list[float] = []
        self._s2 = 0.0
        self._run2 = 0
        self._escalated = False

    # -- the day's evidence ------------------------------------------------------------

    def _value(self, i: int) -> float | None:
        count = self._count[i]
        if not count:
            return None
        return self._sum[i] if self.signals[i].lowest else self._sum[i] / count

    def _zs(self, levels: list[float] | None = None) -> list[float | None]:
        """Each signal's signed deviation today (None: no value, or no baseline yet),
        from its baseline's level or from ``levels`` (the episode's references)."""
        out: list[float | None] = []
        for i, sig in enumerate(self.signals):
            v, b = self._value(i), self._base[i]
            if v is None or not b.ready:
                out.append(None)
            else:
                z = (v - (b.level if levels is None else levels[i])) / b.spread
                out.append(z if sig.rising else -z)
        return out

    def _today(self, levels: list[float] | None = None) -> float | None:
        """The day's ``Z`` from each signal's deviation (:meth:`_zs`), in one pass: every
        reading asks it. None when no primary signal has a value to judge."""
        total, primary, c, gate = 0.0, False, self.clip, self.gate
        counts, sums, base, weights = self._count, self._sum, self._base, self.weights
        for i, sig in enumerate(self.signals):
            n = counts[i]
            b = base[i]
            if not n or not b.ready:
                continue
            v = sums[i] if sig.lowest else sums[i] / n
            z = (v - (b.level if levels is None else levels[i])) / b.spread
            if not sig.rising:
                z = -z
            if sig.primary:
                total += weights[i] * (c if z > c else -c if z < -c else z)
                primary = True
            elif z > gate:
                total += weights[i] * min(c, z - gate)
        return total if primary else None

    # -- learning ----------------------------------------------------------------------

    def _commit(self) -> None:
        """Close the current day: advance S, learn or follow, count towards recovery."""
        z = self._today()
        if z is None:  # warming up, or a day without the primary signal: S stays
            if not self._active and self._s <= self.limit / 2:
                self._learn(follow=False)
            return
        s = max(0.0, self._s + z - self.allowance)
        if self._s == 0.0 and s > 0.0:
            self._rise = self._day_start
        self._s = s
        self._run = self._run + 1 if z > self.persist else 0
        if not self._active:
            if s <= self.limit / 2:
                self._learn(follow=False)
            return
        z2 = self._today(self._ref)
        if z2 is not None:
            self._s2 = max(0.0, self._s2 + z2 - self.allowance)
            self._run2 = self._run2 + 1 if z2 > self.persist else 0
        self._calm = self._calm + 1 if z <= self.persist else 0
        if self._calm >= self.recovery_readings:
            self._note = self._recovery_note()
            self._close()
        elif self._day_start - self._opened >= self.hold_days * DAY:
            self._learn(follow=True)

    def _close(self) -> None:
        self._active, self._calm, self._s, self._run = False, 0, 0.0, 0
        self._s2, self._run2, self._escalated, self._ref = 0.0, 0, False, []

    def _learn(self, *, follow: bool) -> None:
        for i, b in enumerate(self._base):
            v = self._value(i)
            if v is None:
                continue
            if follow and b.ready:
                b.follow(v, self.settle)
            else:
                b.update(v)

    # -- the protocol ------------------------------------------------------------------

    def update(self, x: Observation) -> Finding | None:
        i = self._slots.get(x.measure)
        if i is None or (x.measure is Measure.HEART_RATE and x.activity in EXERTION):
            return None  # not a signal of this score, or not a resting heart rate
        ts = x.at.timestamp()
        day = local_day(ts, x)
        if day < self._day:
            return None  # an earlier day than the one in hand: too late to count
        if day > self._day:
            if self._day >= 0:
                self._commit()
            self._day, self._day_start = day, day * DAY - x.offset
            n = len(self.signals)
            self._sum, self._count = [0.0] * n, [0] * n
        if self.signals[i].device_bias and x.device not in self._devices[i]:
            if self._devices[i] and self._base[i].ready:
                self._base[i].relearn(self.relearn_days)
            self._devices[i] = (*self._devices[i][-3:], x.device)
        if self.signals[i].lowest:
            self._sum[i] = x.value if not self._count[i] else min(self._sum[i], x.value)
        else:
            self._sum[i] += x.value
        self._count[i] += 1
        return self._judge(x)

    def _judge(self, x: Observation) -> Finding | None:
        z = self._today()
        if z is None:
            return None
        s = max(0.0, self._s + z - self.allowance)
        elevated = z > self.persist
        if self._active:
            if not self._escalated and self._escalation():
                self._escalated = True
                return self._finding(x, self._zs(), s, self.escalated_severity)
            if not elevated:
                return None
            severity = self.escalated_severity if self._escalated else self.severity
            return self._finding(x, self._zs(), s, severity)
        run = self._run + 1 if elevated else 0
        if s <= self.limit or run < self.persist_days:
            return None
        zs = self._zs()
        self._track(firing=True, calm=False, ts=self._rise if self._s > 0 else self._day_start)
        self._opened = self._day_start
        self._ref = [
            b.level if (v := self._value(i)) is None else v for i, b in enumerate(self._base)
        ]
        self._escalated = s > self.escalate
        severity = self.escalated_severity if self._escalated else self.severity
        return self._finding(x, zs, s, severity)

    def _escalation(self) -> bool:
        """Whether the signals have risen again since the episode opened: the same
        CUSUM as the opening's, against the levels of the day it opened."""
        z2 = self._today(self._ref)
        if z2 is None:
            return False
        s2 = max(0.0, self._s2 + z2 - self.allowance)
        run = self._run2 + 1 if z2 > self.persist else 0
        return s2 > self.limit and run >= self.persist_days

    def resolve(self) -> None:
        """Close the episode; the current level becomes the patient's normal (today's
        value where there is one, else the next ``relearn_days`` days' values)."""
        super().resolve()
        for i, b in enumerate(self._base):
            if not b.ready:
                continue
            v = self._value(i)
            if v is None:
                b.relearn(self.relearn_days)
            else:
                b.follow(v, 1.0)
        self._close()

    # -- what the coordinator reads ----------------------------------------------------

    def recovery_reason(self) -> str | None:
        return self._note or None

    def _recovery_note(self) -> str:
        parts = [
            f"{sig.label} {self._base[i].level:.1f} {sig.unit}"
            for i, sig in enumerate(self.signals)
            if self._base[i].ready
        ]
        return (
            f"back near the personal baseline ({', '.join(parts)}) on "
            f"{self.recovery_readings} days in a row."
        )

    def _finding(
        self, x: Observation, zs: list[float | None], s: float, severity: Severity
    ) -> Finding:
        observed: dict[str, float] = {"score": round(s, 2)}
        baseline: dict[str, float] = {"limit": self.limit, "allowance": self.allowance}
        said: list[str] = []
        for i, (sig, z) in enumerate(zip(self.signals, zs, strict=True)):
            v, b = self._value(i), self._base[i]
            if v is None or z is None:
                continue
            change = v - b.level
            observed[sig.label] = round(v, 2)
            observed[f"{sig.label}_change"] = round(change, 2)
            baseline[f"{sig.label}_level"] = round(b.level, 2)
            baseline[f"{sig.label}_spread"] = round(b.spread, 2)
            if sig.primary or z > self.gate:
                said.append(
                    f"{sig.label} {v:.1f} {sig.unit} is {change:+.1f} {sig.unit} from the "
                    f"personal baseline of {b.level:.1f} ({z:+.1f} spreads of "
                    f"{b.spread:.1f})"
                )
        return Finding(
            kind=self.kind,
            severity=severity,
            source=self.source,
            observed=observed,
            baseline=baseline,
            window_start=self._window_start(self._day_start),
            window_end=x.at,
            reason=f"{'; '.join(said)}: evidence building over days "
            f"(score {s:.1f} > {self.limit:g}).",
        )
