"""Plausibility bounds of normalized values (from the measure spec, :mod:`hub.measures`).

A value outside its bounds (in the canonical unit) is rejected as
``implausible_value``: it is far more likely a device or unit error than a
patient's reading, and storing it would raise alerts on noise. The bounds are
deliberately wide; clinical thresholds live in the pathways, not here.

>>> PLAUSIBLE[Measure.HEART_RATE]
Bounds(low=20.0, high=300.0, unit='beats/min')
>>> 72.0 in PLAUSIBLE[Measure.HEART_RATE], 350.0 in PLAUSIBLE[Measure.HEART_RATE]
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from hub.measures import SPECS, Bounds, Measure

__all__ = ["DIASTOLIC", "PLAUSIBLE", "SYSTOLIC", "Bounds"]

#: Systolic blood pressure, mmHg.
SYSTOLIC: Final = SPECS[Measure.BLOOD_PRESSURE].fields[0].plausible
#: Diastolic blood pressure, mmHg; also systolic must exceed diastolic.
DIASTOLIC: Final = SPECS[Measure.BLOOD_PRESSURE].fields[1].plausible

#: Plausible range of each measure's (main) value: systolic for blood pressure.
PLAUSIBLE: Final[Mapping[Measure, Bounds]] = MappingProxyType(
    {measure: s.field.plausible for measure, s in SPECS.items()}
)
