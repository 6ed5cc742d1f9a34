"""A personal baseline: a patient's usual level of a measure and its spread.

The first ``warmup`` values are weighted equally (``river.stats.Var``, which
also keeps the mean); the baseline is not :attr:`~Baseline.ready` before.
After that the level is a ``river.stats.EWMean`` seeded with the warm-up mean,
and the spread the square root of an ``EWMean`` of squared deviations from the
level seeded with the warm-up variance, both fading with ``fading`` (the
weight of the newest value). River's ``EWMean`` on its own starts at the first
value and would let that single reading dominate for ~1/``fading`` readings;
``EWVar`` cannot be seeded. The spread never goes below ``spread_floor``, so a
very regular patient does not make every small wobble look large.

Learning is the owner's decision: detectors stop calling :meth:`update` while
their episode is open, which freezes the baseline.

>>> b = Baseline(fading=0.1, warmup=3, spread_floor=0.5)
>>> for v in (80.0, 80.4, 79.6):
...     b.update(v)
>>> b.ready, round(b.level, 2), round(b.spread, 2)
(True, 80.0, 0.5)
>>> b.update(81.0)
>>> round(b.level, 2), round(b.spread, 2)
(80.1, 0.5)
"""

from __future__ import annotations

import math

from river import stats


class Baseline:
    """Level and spread of one measure for one patient."""

    def __init__(self, *, fading: float, warmup: int, spread_floor: float) -> None:
        self.fading = fading
        self.warmup = warmup
        self.spread_floor = spread_floor
        self.n = 0
        self._warm: stats.Var | None = stats.Var()
        self._level = stats.EWMean(fading)
        self._msd = stats.EWMean(fading)
        #: The level, and the standard deviation around it (at least
        #: ``spread_floor``): read far more often than written, so plain
        #: attributes that :meth:`update` sets. Read-only for everyone else.
        self.level = 0.0
        self.spread = spread_floor

    @property
    def ready(self) -> bool:
        """Whether enough values were seen to compare against the baseline."""
        return self.n >= self.warmup

    def update(self, x: float) -> None:
        self.n += 1
        if self._warm is not None:
            self._warm.update(x)
            var = self._warm.get() if self.n > 1 else 0.0
            self.level = self._warm.mean.get()
            if self.n >= self.warmup:
                self._level.update(self.level)
                self._msd.update(var)
                self._warm = None
        else:
            deviation = x - self._level.get()
            self._level.update(x)
            self._msd.update(deviation * deviation)
            self.level, var = self._level.get(), self._msd.get()
        self.spread = max(math.sqrt(max(var, 0.0)), self.spread_floor)
