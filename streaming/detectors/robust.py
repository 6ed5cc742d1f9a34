"""A robust personal baseline of a daily value: its usual level and day-to-day spread.

The first ``warmup`` daily values give the starting level (their median) and
spread (their median absolute deviation, scaled to a standard deviation by
1.4826, Rousseeuw & Croux 1993, JASA 88:1273). After that each day moves the
level by ``fading`` of the day's deviation, and the variance by
``spread_fading`` (default: ``fading``) of the squared deviation, with the
deviation first clipped to ``clip`` spreads (Huber's M-estimation, Huber
1964, Ann. Math. Statist. 35:73): a coat on the scale or one odd cuff reading
moves the baseline little, while a new settled
level is followed within a few weeks. A week of consecutive days says little
about a spread (day-to-day variation is autocorrelated), so the first spread
is at least ``prior``, a typical patient's, and the patient's own emerges
over the following weeks. The spread never goes below ``floor`` (the
instrument's resolution and the smallest change worth a call).

Learning is the owner's decision: a detector stops calling :meth:`update`
while it suspects a deterioration, which freezes the baseline;
:meth:`relearn` starts the level again (a new device with its own bias, or
an alert resolved at a new level) and keeps the spread, which belongs to the
patient rather than to the device.

>>> b = RobustBaseline(fading=0.1, warmup=5, floor=0.2)
>>> for kg in (80.0, 80.4, 79.7, 80.2, 86.0):  # one heavy coat in the warm-up
...     b.update(kg)
>>> b.ready, b.level, round(b.spread, 2)
(True, 80.2, 0.3)
>>> b.update(90.0)  # far out: moves the level by at most clip spreads x fading
>>> round(b.level, 2)
80.27
"""

from __future__ import annotations

import math
import statistics

#: Median absolute deviation to standard deviation, for normal data.
MAD_TO_SD = 1.4826


class RobustBaseline:
    """Level and spread of one daily value of one patient; see the module docstring."""

    __slots__ = (
        "_warm",
        "clip",
        "fading",
        "floor",
        "level",
        "n",
        "prior",
        "spread",
        "spread_fading",
        "warmup",
    )

    def __init__(
        self,
        *,
        fading: float,
        warmup: int,
        floor: float,
        prior: float = 0.0,
        clip: float = 2.5,
        spread_fading: float | None = None,
    ) -> None:
        self.fading = fading
        self.spread_fading = fading if spread_fading is None else spread_fading
        self.warmup = warmup
        self.floor = floor
        self.prior = prior
        self.clip = clip
        self.n = 0
        self._warm: list[float] | None = []
        self.level = 0.0
        self.spread = floor

    @property
    def ready(self) -> bool:
        """Whether the warm-up is over (the baseline can judge a value)."""
        return self._warm is None

    def z(self, value: float) -> float:
        """``value``'s deviation from the level, in spreads."""
        return (value - self.level) / self.spread

    def update(self, value: float) -> None:
        """Learn one day's value."""
        self.n += 1
        warm = self._warm
        if warm is not None:
            warm.append(value)
            self.level = statistics.median(warm)
            if len(warm) >= self.warmup:
                if self.n == len(warm):  # a first warm-up sets the spread too
                    mad = statistics.median(abs(v - self.level) for v in warm)
                    self.spread = max(MAD_TO_SD * mad, self.prior, self.floor)
                self._warm = None
            return
        limit = self.clip * self.spread
        deviation = min(max(value - self.level, -limit), limit)
        self.level += self.fading * deviation
        keep = self.spread_fading
        variance = (1.0 - keep) * self.spread**2 + keep * deviation**2
        self.spread = max(math.sqrt(variance), self.floor)

    def follow(self, value: float, rate: float) -> None:
        """Move the level ``rate`` of the way to ``value`` (a settled new level), spread kept."""
        limit = self.clip * self.spread
        self.level += rate * min(max(value - self.level, -limit), limit)

    def relearn(self, warmup: int) -> None:
        """Learn the level again from the next ``warmup`` values; the spread stays."""
        self._warm = []
        self.warmup = warmup
