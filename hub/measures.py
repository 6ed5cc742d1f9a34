"""The measure spec: everything the hub knows about a measure, in one entry.

One :class:`MeasureSpec` per :class:`Measure` in :data:`SPECS` says

* its Open mHealth schema (name, accepted versions) and the body properties
  holding its values (:class:`Field`, two for blood pressure), each with the
  short key that names it in alerts' evidence and in a pathway's limits
  (``limits.blood-pressure.systolic.high``, :mod:`hub.limits`);
* its canonical unit, as Open mHealth spells it and as UCUM codes it, and
  every unit it accepts with the conversion to the canonical one
  (:class:`Unit`: a factor *and* an offset, so degrees Fahrenheit convert);
* the plausible range of each value (:class:`Bounds`, canonical units);
* which device kinds report it, and whether its limits are for resting
  values only (heart rate);
* how the dashboard shows it (label, digits) and its LOINC codes.

Validation (:mod:`ingest.normalize`), the detector registry, the API (which
serves :func:`catalogue` to the dashboard) and the database (whose
``measures`` and ``device_kinds`` tables :func:`hub.db.migrate` fills from
here) all read this module; adding a measure is an entry here.

Codes: LOINC and UCUM as the FHIR vital-signs profiles use them
(https://hl7.org/fhir/R4/observation-vitalsigns.html): body weight 29463-7
(kg), blood pressure panel 85354-9 with systolic 8480-6 and diastolic 8462-4
(mm[Hg]), heart rate 8867-4 (/min), oxygen saturation by pulse oximetry
59408-5 (%), body temperature 8310-5 (Cel; [degF] accepted, FHIR's
ucum-bodytemp value set).

>>> spec(Measure.BODY_WEIGHT).units["lb"].to_canonical(150)
68.0388555
>>> [f.name for f in spec(Measure.BLOOD_PRESSURE).fields]
['systolic_blood_pressure', 'diastolic_blood_pressure']
>>> sorted(m.value for m in DeviceKind.BP_CUFF.measures)
['blood-pressure', 'heart-rate']
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final


class Measure(enum.StrEnum):
    """What a reading measures; the value is the Open mHealth schema name."""

    BODY_WEIGHT = "body-weight"
    BLOOD_PRESSURE = "blood-pressure"
    OXYGEN_SATURATION = "oxygen-saturation"
    HEART_RATE = "heart-rate"
    BODY_TEMPERATURE = "body-temperature"


class DeviceKind(enum.StrEnum):
    """Kinds of device a patient takes home; :attr:`measures` says what each may report."""

    SCALE = "scale"
    BP_CUFF = "bp_cuff"
    PULSE_OXIMETER = "pulse_oximeter"
    THERMOMETER = "thermometer"
    MULTI = "multi"

    @property
    def measures(self) -> frozenset[Measure]:
        return _KIND_MEASURES[self]


@dataclass(frozen=True, slots=True)
class Unit:
    """One accepted unit: ``canonical = value * factor + offset``.

    >>> FAHRENHEIT = Unit(5 / 9, -160 / 9, "[degF]")
    >>> round(FAHRENHEIT.to_canonical(98.6), 6), round(FAHRENHEIT.from_canonical(37.0), 6)
    (37.0, 98.6)
    """

    factor: float
    offset: float = 0.0
    #: The UCUM code of the unit.
    ucum: str = ""

    def to_canonical(self, value: float) -> float:
        return value * self.factor + self.offset

    def from_canonical(self, value: float) -> float:
        return (value - self.offset) / self.factor


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


@dataclass(frozen=True, slots=True)
class Field:
    """A body property holding one value of the measure (a unit-value object)."""

    name: str
    #: How the value is called on screen (a chart's series, a reason).
    label: str
    loinc: str
    plausible: Bounds
    #: Its short name: the key of the value in an alert's evidence (``observed``,
    #: ``baseline``) and, for a measure of several values, the value's part of
    #: a pathway's limits (``limits.blood-pressure.systolic.high``).
    key: str
    #: How a reason names the value on its own (default: the measure's label).
    title: str = ""


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    measure: Measure
    #: Display name.
    label: str
    #: Open mHealth schema versions accepted (contract section 1).
    versions: tuple[str, ...]
    #: The value fields, first the main one; a second is stored as ``value2``.
    fields: tuple[Field, ...]
    #: The canonical unit as Open mHealth spells it (what is stored).
    unit: str
    #: The canonical unit's UCUM code.
    ucum: str
    #: Accepted units (Open mHealth spelling) and their conversion to ``unit``.
    units: Mapping[str, Unit]
    #: Device kinds (besides ``multi``) that report the measure.
    device_kinds: tuple[DeviceKind, ...]
    #: LOINC code of the observation (the panel, for several fields).
    loinc: str
    #: Decimal places shown.
    digits: int = 0
    #: The canonical unit as shown to people (default: ``unit``).
    symbol: str = ""
    #: With two fields: the first must be above the second (systolic > diastolic).
    ordered: bool = False
    #: Whether its limits are for a resting value: a reading the device marks
    #: as taken during or after exertion is not judged against them.
    resting: bool = False

    @property
    def schema_name(self) -> str:
        return self.measure.value

    @property
    def shown_unit(self) -> str:
        """The canonical unit as shown to people."""
        return self.symbol or self.unit

    @property
    def field(self) -> Field:
        """The main value field."""
        return self.fields[0]

    def title_of(self, field: Field) -> str:
        """How a reason names ``field`` on its own (``'Systolic pressure'``, ``'SpO2'``)."""
        return field.title or self.label


#: 1 mmHg in pascals (conventional millimetre of mercury).
PASCALS_PER_MMHG: Final = 133.322387415

#: Mass (``omh:mass-unit-value-1.0``, the unit set of body-weight 1.0-3.0):
#: every unit of the schema's enum converts. ``gr`` is the grain (64.79891
#: mg), ``oz``/``lb`` are avoirdupois, ``Ton`` is the short ton of 2000 lb
#: (UCUM ``[ston_av]``, as the schema's description says) and ``Metric Ton``
#: is 1000 kg. Stone is not in the schema, so ``st`` never gets this far.
_MASS: Final = {
    "fg": Unit(1e-18, ucum="fg"),
    "pg": Unit(1e-15, ucum="pg"),
    "ng": Unit(1e-12, ucum="ng"),
    "ug": Unit(1e-9, ucum="ug"),
    "mg": Unit(1e-6, ucum="mg"),
    "g": Unit(1e-3, ucum="g"),
    "kg": Unit(1.0, ucum="kg"),
    "Metric Ton": Unit(1e3, ucum="t"),
    "gr": Unit(64.79891e-6, ucum="[gr]"),
    "oz": Unit(0.028349523125, ucum="[oz_av]"),
    "lb": Unit(0.45359237, ucum="[lb_av]"),
    "Ton": Unit(907.18474, ucum="[ston_av]"),
}

#: Pressure: the blood-pressure schemas allow only ``mmHg``; ``kPa`` is
#: accepted for completeness.
_PRESSURE: Final = {
    "mmHg": Unit(1.0, ucum="mm[Hg]"),
    "kPa": Unit(1000.0 / PASCALS_PER_MMHG, ucum="kPa"),
}

_SPECS: tuple[MeasureSpec, ...] = (
    MeasureSpec(
        measure=Measure.BODY_WEIGHT,
        label="Weight",
        versions=("1.0", "2.0", "3.0"),
        fields=(Field("body_weight", "weight", "29463-7", Bounds(20.0, 350.0, "kg"), "weight"),),
        unit="kg",
        ucum="kg",
        units=_MASS,
        device_kinds=(DeviceKind.SCALE,),
        loinc="29463-7",
        digits=1,
    ),
    MeasureSpec(
        measure=Measure.BLOOD_PRESSURE,
        label="Blood pressure",
        versions=("1.0", "2.0", "3.0", "3.1", "4.0"),
        fields=(
            Field(
                "systolic_blood_pressure",
                "systolic",
                "8480-6",
                Bounds(40.0, 300.0, "mmHg"),
                "systolic",
                "Systolic pressure",
            ),
            Field(
                "diastolic_blood_pressure",
                "diastolic",
                "8462-4",
                Bounds(20.0, 200.0, "mmHg"),
                "diastolic",
                "Diastolic pressure",
            ),
        ),
        unit="mmHg",
        ucum="mm[Hg]",
        units=_PRESSURE,
        device_kinds=(DeviceKind.BP_CUFF,),
        loinc="85354-9",
        ordered=True,
    ),
    MeasureSpec(
        measure=Measure.OXYGEN_SATURATION,
        label="SpO2",
        versions=("1.0", "2.0"),
        fields=(Field("oxygen_saturation", "SpO2", "59408-5", Bounds(50.0, 100.0, "%"), "spo2"),),
        unit="%",
        ucum="%",
        units={"%": Unit(1.0, ucum="%")},
        device_kinds=(DeviceKind.PULSE_OXIMETER,),
        loinc="59408-5",
    ),
    MeasureSpec(
        measure=Measure.HEART_RATE,
        label="Heart rate",
        versions=("1.0", "1.1", "2.0"),
        fields=(
            Field(
                "heart_rate", "heart rate", "8867-4", Bounds(20.0, 300.0, "beats/min"), "heart_rate"
            ),
        ),
        unit="beats/min",
        ucum="/min",
        units={"beats/min": Unit(1.0, ucum="/min")},
        device_kinds=(DeviceKind.BP_CUFF, DeviceKind.PULSE_OXIMETER),
        loinc="8867-4",
        resting=True,
    ),
    MeasureSpec(
        measure=Measure.BODY_TEMPERATURE,
        label="Temperature",
        versions=("1.0", "2.0", "3.0", "4.0"),
        fields=(
            Field(
                "body_temperature",
                "temperature",
                "8310-5",
                Bounds(25.0, 45.0, "C"),
                "body_temperature",
            ),
        ),
        unit="C",
        ucum="Cel",
        # omh:temperature-unit-value-1.0 allows K, F and C; F and K need an offset.
        units={
            "C": Unit(1.0, ucum="Cel"),
            "F": Unit(5 / 9, -160 / 9, ucum="[degF]"),
            "K": Unit(1.0, -273.15, ucum="K"),
        },
        device_kinds=(DeviceKind.THERMOMETER,),
        loinc="8310-5",
        digits=1,
        symbol="°C",
    ),
)

#: The spec of every measure, in :class:`Measure` order.
SPECS: Final[Mapping[Measure, MeasureSpec]] = MappingProxyType({s.measure: s for s in _SPECS})

if set(SPECS) != set(Measure):  # pragma: no cover - a programming error
    raise RuntimeError(f"measures without a spec: {sorted(set(Measure) - set(SPECS))}")

_KIND_MEASURES: Final[Mapping[DeviceKind, frozenset[Measure]]] = MappingProxyType(
    {
        kind: frozenset(Measure)
        if kind is DeviceKind.MULTI
        else frozenset(s.measure for s in _SPECS if kind in s.device_kinds)
        for kind in DeviceKind
    }
)


def spec(measure: Measure) -> MeasureSpec:
    """The spec of ``measure``."""
    return SPECS[measure]


def catalogue() -> dict[str, Any]:
    """The spec as JSON-ready data (what ``GET /api/v1/measures`` serves).

    >>> weight = catalogue()["measures"][0]
    >>> weight["measure"], weight["unit"], weight["fields"][0]["plausible"]
    ('body-weight', 'kg', {'low': 20.0, 'high': 350.0})
    """
    return {
        "measures": [
            {
                "measure": s.measure.value,
                "label": s.label,
                "schema": {"namespace": "omh", "name": s.schema_name, "versions": s.versions},
                "unit": s.unit,
                "symbol": s.shown_unit,
                "ucum": s.ucum,
                "loinc": s.loinc,
                "digits": s.digits,
                "fields": [
                    {
                        "name": f.name,
                        "key": f.key,
                        "label": f.label,
                        "title": s.title_of(f),
                        "loinc": f.loinc,
                        "plausible": {"low": f.plausible.low, "high": f.plausible.high},
                    }
                    for f in s.fields
                ],
                "units": [
                    {"unit": name, "ucum": u.ucum, "factor": u.factor, "offset": u.offset}
                    for name, u in s.units.items()
                ],
                "device_kinds": [k.value for k in DeviceKind if s.measure in k.measures],
                "resting": s.resting,
            }
            for s in _SPECS
        ],
    }
