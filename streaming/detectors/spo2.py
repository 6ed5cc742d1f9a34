"""Oxygen saturation falling ``drop`` points or more below the personal baseline."""

from __future__ import annotations

from hub.alerting import AlertKind, Severity
from streaming.detectors.base import EPS, Detector, Finding, Observation
from streaming.detectors.baseline import Baseline


class SpO2Drop(Detector):
    """SpO2 at least ``drop`` points below the patient's own baseline.

    It fires on the ``confirm``-th consecutive such reading (a single low
    spot check is often motion or a cold finger; SpO2 below the pathway's
    safety limit fires through its ``limits.oxygen-saturation`` rule), and nothing fires
    before the baseline has ``warmup`` readings; dropped readings are never
    learned. While the
    episode is open the baseline is frozen; it ends after
    ``recovery_readings`` consecutive readings within ``band_spreads``
    spreads of the baseline.

    >>> from datetime import datetime, timedelta, UTC
    >>> det = SpO2Drop(drop=4, confirm=2, severity=Severity.MEDIUM, fading=0.05, warmup=5,
    ...                spread_floor=1.0, band_spreads=2.0, recovery_readings=3)
    >>> day = datetime(2025, 3, 1, 9, tzinfo=UTC)
    >>> for i, v in enumerate([96, 97, 96, 95, 96, 92]):
    ...     finding = det.update(Observation(day + timedelta(days=i), v))
    >>> finding is None
    True
    >>> det.update(Observation(day + timedelta(days=6), 92)).reason
    'SpO2 92 % is 4 points below the personal baseline of 96 %.'
    >>> det.episode_active
    True
    """

    kind = AlertKind.SPO2_DROP
    source = "model:spo2_drop"

    def __init__(
        self,
        *,
        drop: float,
        confirm: int,
        severity: Severity,
        fading: float,
        warmup: int,
        spread_floor: float,
        band_spreads: float,
        recovery_readings: int,
    ) -> None:
        super().__init__(recovery_readings=recovery_readings)
        self.drop = drop
        self.confirm = confirm
        self._pending = 0
        self.severity = severity
        self.fading = fading
        self.warmup = warmup
        self.spread_floor = spread_floor
        self.band_spreads = band_spreads
        self._baseline = Baseline(fading=fading, warmup=warmup, spread_floor=spread_floor)

    @property
    def baseline(self) -> Baseline:
        return self._baseline

    def update(self, x: Observation) -> Finding | None:
        b, ts = self._baseline, x.at.timestamp()
        if not b.ready:
            self._baseline.update(x.value)
            return None
        level, spread = b.level, b.spread
        fell = level - x.value
        dropped = fell >= self.drop - EPS
        self._pending = self._pending + 1 if dropped else 0
        firing = (self._active and dropped) or self._pending >= self.confirm
        self._track(firing=firing, calm=x.value >= level - self.band_spreads * spread, ts=ts)
        if not self._active and not dropped:
            b.update(x.value)
        if not firing:
            return None
        return Finding(
            kind=self.kind,
            severity=self.severity,
            source=self.source,
            observed={"spo2": x.value, "drop": fell},
            baseline={"level": level, "spread": spread, "drop": self.drop},
            window_start=self._window_start(ts),
            window_end=x.at,
            reason=f"SpO2 {x.value:g} % is {fell:.0f} points below the personal baseline "
            f"of {level:.0f} %.",
        )

    def resolve(self) -> None:
        """Close the episode and relearn the baseline from scratch."""
        super().resolve()
        self._pending = 0
        self._baseline = Baseline(
            fading=self.fading, warmup=self.warmup, spread_floor=self.spread_floor
        )
