"""The heart-failure weight rule of thumb: a gain of 2 kg or more within 72 hours.

The comparator every detector of ours is measured against (issue #3). One
instance per patient; it follows River's protocol (constructor parameters only,
``update`` learns and scores in one step, state is a picklable list). A new
weight is compared with the lowest weight measured in the ``window`` before
it; a late reading is compared with what was measured before it, as if live.

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from hub.domain import Measure
>>> def weigh(kg, day):
...     at = datetime(2026, 3, 1, 7, tzinfo=UTC) + timedelta(days=day)
...     return StreamReading(UUID(int=1), 1, Measure.BODY_WEIGHT, at, kg, None, at)
>>> rule = WeightRuleOfThumb()
>>> rule.update(weigh(80.0, 0)) is None, rule.update(weigh(81.0, 1)) is None
(True, True)
>>> d = rule.update(weigh(82.1, 2))
>>> d.source, d.kind.value, d.observed["gain_kg"]
('rule:rule_of_thumb_2kg_72h', 'weight_gain', 2.1)
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from hub.alerting import AlertKind, Closure, Detection, Severity, StreamReading
from hub.domain import Measure

SOURCE = "rule:rule_of_thumb_2kg_72h"


class WeightRuleOfThumb:
    """Fires when a weight is ``gain_kg`` or more above the lowest of the previous ``window``."""

    def __init__(
        self,
        gain_kg: float = 2.0,
        window: timedelta = timedelta(hours=72),
        source: str = SOURCE,
    ) -> None:
        self.gain_kg = gain_kg
        self.window = window
        self.source = source
        # (measured_at as a POSIX timestamp, kg), sorted by time.
        self._history: list[tuple[float, float]] = []

    def update(self, reading: StreamReading) -> Detection | None:
        """Learn one reading and say whether it fires (other measures are ignored)."""
        if reading.measure is not Measure.BODY_WEIGHT:
            return None
        at = reading.measured_at.timestamp()
        span = self.window.total_seconds()
        lo = bisect.bisect_left(self._history, (at - span, float("-inf")))
        hi = bisect.bisect_left(self._history, (at, float("-inf")))
        before = self._history[lo:hi]
        bisect.insort(self._history, (at, reading.value))
        newest = self._history[-1][0]
        # Keep what a later (or late) reading may still be compared with.
        cut = bisect.bisect_left(self._history, (newest - 2 * span, float("-inf")))
        del self._history[:cut]
        if not before:
            return None
        low_at, low = min(before, key=lambda p: (p[1], p[0]))
        gain = round(reading.value - low, 3)
        if gain < self.gain_kg - 1e-9:
            return None
        start = reading.measured_at - timedelta(seconds=at - low_at)
        hours = self.window.total_seconds() / 3600
        return Detection(
            patient_id=reading.patient_id,
            kind=AlertKind.WEIGHT_GAIN,
            severity=Severity.HIGH,
            source=self.source,
            measure=Measure.BODY_WEIGHT,
            observed={"weight_kg": reading.value, "gain_kg": gain},
            baseline={"min_weight_kg": low, "threshold_kg": self.gain_kg, "window_h": hours},
            window_start=start,
            window_end=reading.measured_at,
            reason=(
                f"Weight {reading.value:.1f} kg is {gain:.1f} kg above the lowest of the "
                f"previous {hours:.0f} h ({low:.1f} kg); rule of thumb: >= {self.gain_kg:.1f} kg."
            ),
        )

    def process(self, reading: StreamReading) -> list[Detection]:
        """The monitor interface of the evaluation: the detections of one reading."""
        d = self.update(reading)
        return [d] if d is not None else []

    # The rest of the monitor interface: the rule keeps no episodes, so it
    # never holds a kind open, has nothing to resolve and closes nothing.

    @property
    def open_kinds(self) -> Mapping[AlertKind, Severity]:
        return _NOTHING_OPEN

    def resolve(self, kind: AlertKind) -> None:
        pass

    def pop_closures(self) -> list[Closure]:
        return []


_NOTHING_OPEN: Mapping[AlertKind, Severity] = MappingProxyType({})
