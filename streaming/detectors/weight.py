"""Weight gain: the guideline rule (2 kg within 72 hours, 2.3 kg within a week).

It works on the *daily minimum* weight (the patient's local days): weighing
twice in a day does not count twice, and the lowest value is the one least
affected by clothes and meals. The slow gains that the rule misses are the
heart-failure score's (:class:`~streaming.detectors.scores.HeartFailureScore`).
"""

from __future__ import annotations

from hub.alerting import AlertKind, Severity
from streaming.detectors.base import DAY, EPS, Detector, Finding, Observation, local_day, utc

#: A day's lowest weight: (timestamp, kg, local day number).
_Minimum = tuple[float, float, float]


class WeightGainRule(Detector):
    """Gain of ``short_kg`` within ``short_hours`` or ``week_kg`` within ``week_days``.

    The day's lowest weight so far (this reading included) is compared with
    the lowest daily minimum of the *earlier* days measured within each
    window: an evening weight after a morning one is not a gain. A gain
    fires at once. It carries ``severity`` once it is confirmed: it held on
    the previous weighing day as well (``confirm_days = 2``; a coat on the
    scale or one salty dinner is gone the next morning), or it is at least
    ``at_once_kg``, or the episode was confirmed before; until then it
    carries ``unconfirmed_severity``. With ``opens`` false its findings only
    raise the severity of a weight-gain alert already open (the heart-failure
    score opens them). Only the daily minima of the last
    ``week_days`` + 1 days are kept, as ``(timestamp, kg)`` pairs. The
    episode ends after ``recovery_readings`` consecutive readings that no
    longer break the rule: the weight came down, or a gain has settled and its
    days have left the week's window, so a later rise on top of it is a new
    episode (an episode is never held open by the low point it opened against).

    >>> from datetime import datetime, timedelta, UTC
    >>> rule = WeightGainRule(short_kg=2.0, short_hours=72, week_kg=2.3, week_days=7,
    ...                       at_once_kg=4.0, confirm_days=2, severity=Severity.HIGH,
    ...                       unconfirmed_severity=Severity.LOW, recovery_readings=3)
    >>> day = datetime(2025, 3, 1, 7, tzinfo=UTC)
    >>> for i, kg in enumerate([80.0, 80.2, 80.9, 82.0]):
    ...     finding = rule.update(Observation(day + timedelta(days=i), kg))
    >>> finding.severity.value  # 2 kg in 72 h, not yet confirmed
    'low'
    >>> finding = rule.update(Observation(day + timedelta(days=4), 82.6))
    >>> finding.severity.value, finding.source, finding.observed
    ('high', 'rule:weight_gain_72h', {'weight': 82.6, 'gain': 2.4})
    """

    kind = AlertKind.WEIGHT_GAIN
    source = "rule:weight_gain"

    def __init__(
        self,
        *,
        short_kg: float,
        short_hours: float,
        week_kg: float,
        week_days: float,
        at_once_kg: float,
        confirm_days: int,
        severity: Severity,
        unconfirmed_severity: Severity,
        recovery_readings: int,
        opens: bool = True,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.opens = opens
        self.short_kg = short_kg
        self.short_hours = short_hours
        self.week_kg = week_kg
        self.week_days = week_days
        self.at_once_kg = at_once_kg
        self.confirm_days = confirm_days
        self.severity = severity
        self.unconfirmed_severity = unconfirmed_severity
        self._confirmed = False
        self._minima: list[_Minimum] = []
        self._broke = -1.0
        self._run = 0

    def _lowest(self, ts: float, today: float) -> tuple[_Minimum | None, _Minimum | None]:
        """Lowest earlier-day minimum within the short window and within the week."""
        short_from = ts - self.short_hours * 3600
        week_from = ts - self.week_days * DAY
        short: _Minimum | None = None
        week: _Minimum | None = None
        for m in self._minima:  # oldest first; only the last can be today's
            at, kg, day = m
            if day >= today:
                break
            if at >= week_from and (week is None or kg < week[1]):
                week = m
            if at >= short_from and (short is None or kg < short[1]):
                short = m
        return short, week

    def update(self, x: Observation) -> Finding | None:
        ts = x.at.timestamp()
        today = local_day(ts, x)
        last = self._minima[-1] if self._minima else None
        same_day = last is not None and last[2] == today
        kg = min(x.value, last[1]) if last is not None and same_day else x.value
        hit: tuple[bool, float, float, float, float] | None = None
        short, week = self._lowest(ts, today)
        if short is not None and kg - short[1] >= self.short_kg - EPS:
            hit = (True, self.short_kg, self.short_hours * 3600, short[0], short[1])
        elif week is not None and kg - week[1] >= self.week_kg - EPS:
            hit = (False, self.week_kg, self.week_days * DAY, week[0], week[1])
        run = self._confirm(today, hit is not None)
        confirmed = hit is not None and (
            self._confirmed or run >= self.confirm_days or kg - hit[4] >= self.at_once_kg - EPS
        )
        self._track(firing=hit is not None, calm=hit is None, ts=ts)
        self._confirmed = self._active and (self._confirmed or confirmed)
        self._remember(ts, x.value, today)
        if hit is None:
            return None
        is_short, limit, span, ref_ts, ref_kg = hit
        named = (
            f"rule:weight_gain_{self.short_hours:g}h"
            if is_short
            else f"rule:weight_gain_{self.week_days:g}d"
        )
        hours = span / 3600
        reason = (
            f"Weight {kg:.1f} kg is {kg - ref_kg:.1f} kg above the {ref_kg:.1f} kg "
            f"measured within the last {hours:g} hours (limit {limit:g} kg)"
        )
        if not confirmed:
            reason += "; one weighing day so far: the next day's weight confirms it"
        return Finding(
            kind=self.kind,
            severity=self.severity if confirmed else self.unconfirmed_severity,
            source=named,
            observed={"weight": kg, "gain": round(kg - ref_kg, 3)},
            baseline={"reference_weight": ref_kg, "limit_kg": limit, "window_hours": hours},
            window_start=utc(ref_ts),
            window_end=x.at,
            reason=reason + ".",
            confirmed=confirmed,
            escalates_only=not self.opens,
        )

    def _confirm(self, today: float, hit: bool) -> int:
        """Count of consecutive weighing days (today included) whose minimum broke the rule."""
        minima = self._minima
        # Minima are in time order, one per day: the last earlier day is the
        # last minimum, or the one before it when the last is today's.
        earlier = minima[-1] if minima and minima[-1][2] < today else None
        if earlier is None and len(minima) > 1:
            earlier = minima[-2]
        if self._broke != today:
            previous = self._run if earlier is not None and self._broke == earlier[2] else 0
        else:
            previous = self._run - 1
        self._run = previous + 1 if hit else 0
        self._broke = today if hit else -1.0
        return self._run

    def _remember(self, ts: float, kg: float, today: float) -> None:
        minima = self._minima
        if minima and minima[-1][2] == today:
            if kg < minima[-1][1]:
                minima[-1] = (ts, kg, today)
        else:
            minima.append((ts, kg, today))
        horizon = ts - (self.week_days + 1) * DAY
        while minima[0][0] < horizon:
            del minima[0]

    def resolve(self) -> None:
        super().resolve()
        self._confirmed = False
