"""Unit conversion to the canonical units of the measure spec (:mod:`hub.measures`).

Each measure's spec maps a unit string, exactly as the Open mHealth schemas
spell it, to a :class:`~hub.measures.Unit` (a factor and an offset) that
converts a value in that unit to the canonical one; the units and their
sources are described there. A unit the schema allows but the spec lacks is
rejected as ``unit_unsupported``.

Duration (``duration-unit-value``): ``ps`` to ``wk`` are exact. ``Mo`` and
``yr`` have no fixed length (calendar months and years vary), so they are
deliberately absent: a time interval that needs one of them to place the
measurement in time is rejected as ``unit_unsupported``.

>>> to_canonical(Measure.BODY_WEIGHT, 150, "lb")
68.0388555
>>> duration_seconds(1.5, "h")
5400.0
>>> duration_seconds(1, "Mo") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from hub.measures import PASCALS_PER_MMHG, SPECS, Measure, Unit

__all__ = [
    "DURATION_TO_SECONDS",
    "MASS_TO_KG",
    "PASCALS_PER_MMHG",
    "TO_CANONICAL",
    "duration_seconds",
    "from_canonical",
    "to_canonical",
]

#: The accepted units of each measure and their conversion to the canonical unit.
TO_CANONICAL: Final[Mapping[Measure, Mapping[str, Unit]]] = MappingProxyType(
    {measure: MappingProxyType(dict(s.units)) for measure, s in SPECS.items()}
)

#: Factor of each mass unit to kilograms.
MASS_TO_KG: Final[Mapping[str, float]] = MappingProxyType(
    {name: unit.factor for name, unit in TO_CANONICAL[Measure.BODY_WEIGHT].items()}
)

DURATION_TO_SECONDS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "ps": 1e-12,
        "ns": 1e-9,
        "us": 1e-6,
        "ms": 1e-3,
        "sec": 1.0,
        "min": 60.0,
        "h": 3600.0,
        "d": 86400.0,
        "wk": 604800.0,
    }
)


def to_canonical(measure: Measure, value: float, unit: str) -> float | None:
    """``value`` in ``unit`` expressed in the measure's canonical unit.

    None when the unit is not one we convert.

    >>> round(to_canonical(Measure.BLOOD_PRESSURE, 16, "kPa"), 3)
    120.01
    >>> to_canonical(Measure.BODY_WEIGHT, 1, "st") is None
    True
    """
    found = TO_CANONICAL[measure].get(unit)
    return None if found is None else found.to_canonical(value)


def from_canonical(measure: Measure, value: float, unit: str) -> float | None:
    """Inverse of :func:`to_canonical` (for display and tests).

    >>> round(from_canonical(Measure.BODY_WEIGHT, 68.0388555, "lb"), 9)
    150.0
    """
    found = TO_CANONICAL[measure].get(unit)
    return None if found is None else found.from_canonical(value)


def duration_seconds(value: float, unit: str) -> float | None:
    """A duration in seconds, or None for units without a fixed length."""
    factor = DURATION_TO_SECONDS.get(unit)
    return None if factor is None else value * factor
