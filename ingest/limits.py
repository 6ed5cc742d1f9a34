"""Plausibility bounds of normalized values.

A value outside its bounds (in the canonical unit) is rejected as
``implausible_value``: it is far more likely a device or unit error than a
patient's reading, and storing it would raise alerts on noise. The bounds are
deliberately wide; clinical thresholds live in ``alerts/``, not here.

>>> PLAUSIBLE[Measure.HEART_RATE]
Bounds(low=20.0, high=300.0, unit='beats/min')
>>> 72.0 in PLAUSIBLE[Measure.HEART_RATE], 350.0 in PLAUSIBLE[Measure.HEART_RATE]
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from hub.domain import CANONICAL_UNIT, Measure


@dataclass(frozen=True, slots=True)
class Bounds:
    """Closed interval ``[low, high]`` of plausible values, in ``unit``."""

    low: float
    high: float
    unit: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high and math.isfinite(value)

    def describe(self) -> str:
        """``'20-350 kg'``: the range for a rejection's detail (never the value)."""
        return f"{self.low:g}-{self.high:g} {self.unit}"


#: Systolic blood pressure, mmHg.
SYSTOLIC: Final = Bounds(40.0, 300.0, "mmHg")
#: Diastolic blood pressure, mmHg; also systolic must exceed diastolic.
DIASTOLIC: Final = Bounds(20.0, 200.0, "mmHg")

#: Plausible range of each measure's value (systolic for blood pressure).
PLAUSIBLE: Final[Mapping[Measure, Bounds]] = MappingProxyType(
    {
        Measure.BODY_WEIGHT: Bounds(20.0, 350.0, CANONICAL_UNIT[Measure.BODY_WEIGHT]),
        Measure.BLOOD_PRESSURE: SYSTOLIC,
        Measure.OXYGEN_SATURATION: Bounds(50.0, 100.0, CANONICAL_UNIT[Measure.OXYGEN_SATURATION]),
        Measure.HEART_RATE: Bounds(20.0, 300.0, CANONICAL_UNIT[Measure.HEART_RATE]),
    }
)
