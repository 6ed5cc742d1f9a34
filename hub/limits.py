"""Safety limits keyed by measure: a pathway's ``[<pathway>.limits.<measure>]`` tables.

A measure's table says, in the measure's canonical unit (:mod:`hub.measures`),
beyond which values a reading breaks a safety limit. Its keys are also those
of a patient's overrides, ``limits.<measure>.<key>``:

``high``, ``high_at_once``, ``low``, ``low_at_once``
    The limits of the measure's value. A measure of several values (blood
    pressure) names the value first, by its key in the spec
    (:attr:`hub.measures.Field.key`): ``systolic.high``,
    ``diastolic.high_at_once``. A value beyond ``high`` (above it) or ``low``
    (below it) breaks the limit, confirmed as the safety rules say
    (``streaming.detectors.safety``); beyond its ``*_at_once`` limit one
    reading is enough. A limit needs its at-once limit; a value may have a
    high limit, a low one, both or none.
``high_severity``, ``low_severity``
    The severity of the side's alert; required where the side has a limit.
``high_inclusive``, ``low_inclusive``
    ``1``: a value *at* the side's limits breaks them too (the guideline's
    "180/120 or more"); ``0``, the default: only strictly beyond.

Each side with a limit is one rule with one alert kind
(:data:`hub.alerting.LIMIT_KINDS`): a reading breaks it when any of its values
is beyond that value's limit on the side.

>>> hr = parse_limits(
...     Measure.HEART_RATE, {"high": 120, "high_at_once": 140, "high_severity": "high"}, "x"
... )
>>> hr["high"], [(side.kind.value, side.bounds) for side in hr.sides]
(120.0, [('hr_high', (Bound(index=0, key='heart_rate', limit=120.0, at_once=140.0),))])

The flat thresholds these tables replaced (``spo2_low``, ``severity.bp_high``,
...) are still accepted as overrides under their old names
(:data:`LEGACY_KEYS`, :func:`canonical_overrides`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from hub.alerting import LIMIT_KINDS, AlertKind, Severity
from hub.exceptions import PathwayError
from hub.measures import Measure, spec
from hub.pathway_params import number, severity

Side = Literal["high", "low"]
SIDES: Final[tuple[Side, Side]] = ("high", "low")


@dataclass(frozen=True, slots=True)
class Bound:
    """One value's limit on one side."""

    #: Which value of a reading: 0 its value, 1 its second (diastolic) value.
    index: int
    #: The value's key in the spec (``systolic``, ``spo2``).
    key: str
    limit: float
    at_once: float


@dataclass(frozen=True, slots=True)
class SideLimits:
    """One side (high or low) of a measure's limits: what one safety rule checks."""

    measure: Measure
    #: The high side (a value above its limit breaks it), or the low one.
    above: bool
    severity: Severity
    #: Whether a value at a limit breaks it too.
    inclusive: bool
    #: The values limited on this side, in the spec's order.
    bounds: tuple[Bound, ...]

    @property
    def side(self) -> Side:
        return "high" if self.above else "low"

    @property
    def kind(self) -> AlertKind:
        """The alert kind of a breach."""
        return LIMIT_KINDS[self.measure, self.above]

    def beyond(self, value: float, limit: float) -> bool:
        """Whether ``value`` is beyond ``limit`` on this side.

        >>> low = SideLimits(Measure.OXYGEN_SATURATION, False, Severity.HIGH, False, ())
        >>> low.beyond(87.9, 88), low.beyond(88, 88)
        (True, False)
        """
        if self.above:
            return value >= limit if self.inclusive else value > limit
        return value <= limit if self.inclusive else value < limit


@dataclass(frozen=True, slots=True)
class MeasureLimits:
    """One measure's table, validated (:func:`parse_limits`).

    ``limits["low"]``, ``limits["systolic.high"]`` read a number of it,
    :meth:`severity` a side's severity.
    """

    measure: Measure
    #: The table by flat key (``low``, ``systolic.high``, ``high_severity``);
    #: a plain dict so that a pathway pickles: treat it as read-only.
    table: Mapping[str, float | Severity]

    def __getitem__(self, key: str) -> float:
        value = self.table[key]
        if isinstance(value, Severity):
            raise KeyError(f"{key} is a severity, not a number")
        return value

    def severity(self, side: Side) -> Severity:
        """The severity of the side's alert (:class:`KeyError` if the side has no limit)."""
        value = self.table[f"{side}_severity"]
        if not isinstance(value, Severity):  # pragma: no cover - parse_limits made it one
            raise TypeError(f"{side}_severity: {value!r}")
        return value

    @property
    def sides(self) -> tuple[SideLimits, ...]:
        """The sides that have a limit, high first."""
        fields = spec(self.measure).fields
        found = []
        for side in SIDES:
            bounds = tuple(
                Bound(i, f.key, self[key], self[f"{key}_at_once"])
                for i, f in enumerate(fields)
                if (key := value_key(self.measure, i, side)) in self.table
            )
            if bounds:
                found.append(
                    SideLimits(
                        measure=self.measure,
                        above=side == "high",
                        severity=self.severity(side),
                        inclusive=bool(self.table.get(f"{side}_inclusive", 0)),
                        bounds=bounds,
                    )
                )
        return tuple(found)

    def with_values(self, values: Mapping[str, object], where: str) -> MeasureLimits:
        """A copy with single keys replaced (checked as the file's tables are)."""
        return parse_limits(self.measure, {**self.table, **values}, where)


def value_key(measure: Measure, index: int, side: Side) -> str:
    """The key of a value's limit on a side: ``low``, or ``systolic.high`` for blood pressure.

    >>> value_key(Measure.BLOOD_PRESSURE, 1, "high"), value_key(Measure.HEART_RATE, 0, "low")
    ('diastolic.high', 'low')
    """
    fields = spec(measure).fields
    return side if len(fields) == 1 else f"{fields[index].key}.{side}"


def limit_keys(measure: Measure) -> tuple[str, ...]:
    """Every key a table of ``measure`` may have."""
    keys: list[str] = []
    for side in SIDES:
        for i in range(len(spec(measure).fields)):
            key = value_key(measure, i, side)
            keys += [key, f"{key}_at_once"]
        keys += [f"{side}_severity", f"{side}_inclusive"]
    return tuple(keys)


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A TOML table with sub-tables as one table of dotted keys.

    >>> flatten({"systolic": {"high": 180}, "high_severity": "critical"})
    {'systolic.high': 180, 'high_severity': 'critical'}
    """
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def parse_limits(measure: Measure, table: Mapping[str, Any], where: str) -> MeasureLimits:
    """A measure's limits from its table (sub-tables or dotted keys); :class:`PathwayError`
    names what is unknown, missing or not a value of its type."""
    flat = flatten(table)
    unknown = set(flat) - set(limit_keys(measure))
    if unknown:
        raise PathwayError(f"{where}: unknown {sorted(unknown)}")
    values: dict[str, float | Severity] = {}
    for key, value in flat.items():
        place = f"{where}.{key}"
        if key.endswith("_severity"):
            values[key] = severity(value, place)
        elif key.endswith("_inclusive"):
            values[key] = number(value, int, place)
            if values[key] not in (0, 1):
                raise PathwayError(f"{place}: expected 0 or 1, got {value!r}")
        else:
            values[key] = number(value, float, place)
    missing: set[str] = set()
    sides = 0
    for side in SIDES:
        limited = False
        for i in range(len(spec(measure).fields)):
            key = value_key(measure, i, side)
            pair = {key, f"{key}_at_once"}
            if pair & set(values):
                limited = True
                missing |= pair - set(values)
        if not limited:
            if {f"{side}_severity", f"{side}_inclusive"} & set(values):
                raise PathwayError(f"{where}: {side}_severity or {side}_inclusive without a limit")
            continue
        sides += 1
        if f"{side}_severity" not in values:
            missing.add(f"{side}_severity")
        if (measure, side == "high") not in LIMIT_KINDS:
            raise PathwayError(f"{where}: no alert kind for its {side} limits")
    if missing:
        raise PathwayError(f"{where}: missing {sorted(missing)}")
    if not sides:
        raise PathwayError(f"{where}: no limits")
    return MeasureLimits(measure, values)


#: The thresholds that were flat keys of ``[<pathway>.thresholds]`` before the
#: limits were keyed by measure, and their keys now; each had an ``_at_once`` twin.
_MOVED_THRESHOLDS: Final = {
    "systolic_high": "limits.blood-pressure.systolic.high",
    "diastolic_high": "limits.blood-pressure.diastolic.high",
    "systolic_low": "limits.blood-pressure.systolic.low",
    "spo2_low": "limits.oxygen-saturation.low",
    "hr_high": "limits.heart-rate.high",
    "hr_low": "limits.heart-rate.low",
}
#: The severities that were keys of ``[<pathway>.severity]``.
_MOVED_SEVERITIES: Final = {
    "bp_high": "limits.blood-pressure.high_severity",
    "bp_low": "limits.blood-pressure.low_severity",
    "spo2_low": "limits.oxygen-saturation.low_severity",
    "hr_high": "limits.heart-rate.high_severity",
    "hr_low": "limits.heart-rate.low_severity",
}

#: Override keys of before the limits were keyed by measure, still accepted on
#: input, and the keys they stand for now. A threshold was named bare
#: (``spo2_low``) or with its table (``thresholds.spo2_low``); body
#: temperature's one ``severity`` set both of its sides. Migration
#: ``0022_limits_by_measure.sql`` rewrote the stored ones with this same list.
LEGACY_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    **{
        f"{table}{old}{twin}": (f"{new}{twin}",)
        for old, new in _MOVED_THRESHOLDS.items()
        for twin in ("", "_at_once")
        for table in ("", "thresholds.")
    },
    **{f"severity.{old}": (new,) for old, new in _MOVED_SEVERITIES.items()},
    "limits.body-temperature.severity": (
        "limits.body-temperature.high_severity",
        "limits.body-temperature.low_severity",
    ),
}

_V = TypeVar("_V")


def canonical_overrides(overrides: Mapping[str, _V]) -> dict[str, _V]:
    """``overrides`` with every old key (:data:`LEGACY_KEYS`) renamed; a value named
    twice (under its old and its new key) is refused.

    >>> canonical_overrides({"spo2_low": 86, "severity.hr_high": "critical", "schedule.x": 1})
    {'limits.oxygen-saturation.low': 86, 'limits.heart-rate.high_severity': 'critical', \
'schedule.x': 1}
    """
    out: dict[str, _V] = {}
    given: dict[str, str] = {}
    for key, value in overrides.items():
        for new in LEGACY_KEYS.get(key, (key,)):
            if new in given:
                raise PathwayError(f"overrides {given[new]!r} and {key!r} both set {new!r}")
            given[new], out[new] = key, value
    return out


def overrides_on_top(own: Mapping[str, _V], more: Mapping[str, _V] | None = None) -> dict[str, _V]:
    """``more`` overrides on top of ``own`` (a patient's), each under its current keys.

    >>> overrides_on_top({"spo2_low": 86}, {"limits.oxygen-saturation.low": 84})
    {'limits.oxygen-saturation.low': 84}
    """
    return canonical_overrides(own) | canonical_overrides(more or {})


def override_label(key: str) -> tuple[str, str]:
    """How a patient's override is shown: its label and the unit of its value.

    >>> override_label("limits.blood-pressure.systolic.high_at_once")
    ('Blood pressure systolic high at once', 'mmHg')
    >>> override_label("limits.oxygen-saturation.low_severity")
    ('SpO2 low severity', '')
    >>> override_label("schedule.body-weight"), override_label("heart_failure.limit")
    (('Weight readings every', 'h'), ('heart_failure.limit', ''))
    """
    section, _, rest = key.partition(".")
    name, _, part = rest.partition(".")
    try:
        described = spec(Measure(name))
    except ValueError:
        return key, ""
    if section == "schedule" and not part:
        return f"{described.label} readings every", "h"
    if section != "limits" or not part:
        return key, ""
    value, _, side = part.rpartition(".")
    words = [described.label]
    words += [f.label for f in described.fields if value and f.key == value]
    words.append(side.replace("_", " "))
    numeric = not side.endswith(("_severity", "_inclusive"))
    return " ".join(words), described.shown_unit if numeric else ""
