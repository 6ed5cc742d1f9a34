"""Unit conversion to the canonical units of :data:`hub.domain.CANONICAL_UNIT`.

Each table maps a unit string, exactly as the Open mHealth schemas spell it, to
the factor that converts a value in that unit to the canonical one. A unit the
schema allows but a table lacks is rejected as ``unit_unsupported``.

Mass (``omh:mass-unit-value-1.0``, the unit set of body-weight 1.0-3.0): every
unit of the schema's enum converts. ``gr`` is the grain (64.79891 mg),
``oz``/``lb`` are avoirdupois, ``Ton`` is the short ton of 2000 lb (UCUM
``[ston_av]``, as the schema's description says) and ``Metric Ton`` is
1000 kg. Stone is not in the schema, so ``st`` never gets this far.

Pressure: the blood-pressure schemas allow only ``mmHg``; ``kPa`` is listed
for completeness (1 mmHg = 133.322387415 Pa).

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

from hub.domain import Measure

#: 1 mmHg in pascals (conventional millimetre of mercury).
PASCALS_PER_MMHG: Final = 133.322387415

MASS_TO_KG: Final[Mapping[str, float]] = MappingProxyType(
    {
        "fg": 1e-18,
        "pg": 1e-15,
        "ng": 1e-12,
        "ug": 1e-9,
        "mg": 1e-6,
        "g": 1e-3,
        "kg": 1.0,
        "Metric Ton": 1e3,
        "gr": 64.79891e-6,
        "oz": 0.028349523125,
        "lb": 0.45359237,
        "Ton": 907.18474,
    }
)

PRESSURE_TO_MMHG: Final[Mapping[str, float]] = MappingProxyType(
    {"mmHg": 1.0, "kPa": 1000.0 / PASCALS_PER_MMHG}
)

SATURATION_TO_PERCENT: Final[Mapping[str, float]] = MappingProxyType({"%": 1.0})

RATE_TO_BEATS_PER_MIN: Final[Mapping[str, float]] = MappingProxyType({"beats/min": 1.0})

#: Factor to the canonical unit, per measure.
TO_CANONICAL: Final[Mapping[Measure, Mapping[str, float]]] = MappingProxyType(
    {
        Measure.BODY_WEIGHT: MASS_TO_KG,
        Measure.BLOOD_PRESSURE: PRESSURE_TO_MMHG,
        Measure.OXYGEN_SATURATION: SATURATION_TO_PERCENT,
        Measure.HEART_RATE: RATE_TO_BEATS_PER_MIN,
    }
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
    factor = TO_CANONICAL[measure].get(unit)
    return None if factor is None else value * factor


def from_canonical(measure: Measure, value: float, unit: str) -> float | None:
    """Inverse of :func:`to_canonical` (for display and tests).

    >>> round(from_canonical(Measure.BODY_WEIGHT, 68.0388555, "lb"), 9)
    150.0
    """
    factor = TO_CANONICAL[measure].get(unit)
    return None if factor is None else value / factor


def duration_seconds(value: float, unit: str) -> float | None:
    """A duration in seconds, or None for units without a fixed length."""
    factor = DURATION_TO_SECONDS.get(unit)
    return None if factor is None else value * factor
