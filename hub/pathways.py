"""Care pathways: which measures a patient takes, how often, and their limits.

Every number lives in ``pathways.toml`` beside this module. Each pathway
inherits every table of ``[default]`` except ``schedule`` and overrides what
differs; a patient may override single values on top::

    >>> chf = get_pathway("CHF")
    >>> chf.thresholds.weight_gain_short_kg
    2.0
    >>> sorted(m.value for m in chf.schedule)
    ['blood-pressure', 'body-weight']
    >>> get_pathway("COPD").limits[Measure.OXYGEN_SATURATION]["low"]
    85.0
    >>> own = chf.with_overrides({"limits.oxygen-saturation.low": 86, "heart_failure.limit": 6})
    >>> own.limits[Measure.OXYGEN_SATURATION]["low"], own.heart_failure.limit
    (86.0, 6.0)

The safety limits of a measure's values are its ``limits.<measure>`` table
(:mod:`hub.limits`); the old flat names of the limits that moved there
(``spo2_low``, ``severity.bp_high``) still work as overrides.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from hub.domain import Measure
from hub.exceptions import PathwayError, UnknownPathwayError
from hub.limits import MeasureLimits, canonical_overrides, flatten, parse_limits
from hub.pathway_params import (
    AdherenceParams,
    BaselineParams,
    Confirmation,
    Episodes,
    HeartFailureParams,
    PressureParams,
    RespiratoryParams,
    Severities,
    Thresholds,
    number,
    severity,
)

PATHWAYS_FILE = Path(__file__).with_name("pathways.toml")
DEFAULT = "default"
#: The table naming the seeds the shipped numbers were tuned on (not a pathway).
TUNING = "tuning"


_SECTIONS: dict[str, type[Any]] = {
    "thresholds": Thresholds,
    "severity": Severities,
    "confirm": Confirmation,
    "episodes": Episodes,
    "baseline": BaselineParams,
    "heart_failure": HeartFailureParams,
    "respiratory": RespiratoryParams,
    "pressure": PressureParams,
    "adherence": AdherenceParams,
}


@dataclass(frozen=True, slots=True)
class Pathway:
    """One care pathway, possibly with a patient's overrides applied."""

    name: str
    description: str
    post_discharge_days: int
    #: Expected interval between readings, in hours, per expected measure
    #: (a plain dict so that a pathway pickles; treat it as read-only).
    schedule: Mapping[Measure, float]
    thresholds: Thresholds
    severity: Severities
    confirm: Confirmation
    episodes: Episodes
    baseline: BaselineParams
    heart_failure: HeartFailureParams
    respiratory: RespiratoryParams
    pressure: PressureParams
    adherence: AdherenceParams
    #: The overrides applied to the shipped pathway of this name, in order.
    overrides: tuple[tuple[str, float | int | str], ...] = ()
    #: Safety limits keyed by measure (``limits.<measure>`` tables; a plain
    #: dict so that a pathway pickles; treat it as read-only).
    limits: Mapping[Measure, MeasureLimits] = dataclasses.field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        """A shipped pathway pickles as its name, one with a patient's overrides as the
        name and the overrides (checkpoints stay small), any other whole."""
        shipped = _shipped().get(self.name)
        if shipped is self:
            return (get_pathway, (self.name,))
        if shipped is not None and self.overrides:
            return (_overridden, (self.name, self.overrides))
        return (_restore, (tuple(getattr(self, f.name) for f in dataclasses.fields(self)),))

    def in_post_discharge(self, discharged_at: datetime | None, now: datetime) -> bool:
        """Whether ``now`` falls in the post-discharge window."""
        if discharged_at is None:
            return False
        return discharged_at <= now < discharged_at + timedelta(days=self.post_discharge_days)

    def with_overrides(self, overrides: Mapping[str, float | int | str]) -> Pathway:
        """A copy with single values replaced.

        A key ``"section.field"`` names a value of a table (``"baseline.spo2_warmup"``,
        ``"heart_failure.limit"``, ``"schedule.body-weight"``); a safety limit is
        ``"limits.<measure>.<key>"`` of a measure the pathway limits (keys:
        :mod:`hub.limits`; ``"limits.oxygen-saturation.low"``,
        ``"limits.blood-pressure.systolic.high"``). A bare key names a value of
        ``thresholds``. Old names of the limits (:data:`hub.limits.LEGACY_KEYS`)
        are read as the new ones. Unknown keys raise :class:`PathwayError`.
        """
        overrides = canonical_overrides(overrides)
        sections: dict[str, dict[str, Any]] = {}
        schedule = dict(self.schedule)
        limited: dict[Measure, dict[str, Any]] = {}
        for key, value in overrides.items():
            if key.startswith("limits."):
                name, _, limit = key.removeprefix("limits.").partition(".")
                measure = _measure(name, key)
                if measure not in self.limits:
                    raise PathwayError(f"unknown override {key!r}: {self.name} has no such limits")
                limited.setdefault(measure, {})[limit] = value
                continue
            section, _, name = key.rpartition(".") if "." in key else ("thresholds", "", key)
            if section == "schedule":
                schedule[_measure(name, self.name)] = number(value, float, key)
                continue
            if section not in _SECTIONS:
                raise PathwayError(f"unknown override {key!r}")
            sections.setdefault(section, {})[name] = value
        limits = dict(self.limits)
        for measure, values in limited.items():
            limits[measure] = limits[measure].with_values(values, f"limits.{measure}")
        changes: dict[str, Any] = {
            "schedule": schedule,
            "limits": limits,
            "overrides": self.overrides + tuple(overrides.items()),
        }
        for section, values in sections.items():
            current = dataclasses.asdict(getattr(self, section))
            unknown = set(values) - set(current)
            if unknown:
                raise PathwayError(f"unknown override(s) {sorted(unknown)} in {section}")
            changes[section] = _build(_SECTIONS[section], current | values, section)
        return dataclasses.replace(self, **changes)


def _restore(values: tuple[Any, ...]) -> Pathway:
    return Pathway(*values)


def _overridden(name: str, overrides: tuple[tuple[str, float | int | str], ...]) -> Pathway:
    return get_pathway(name).with_overrides(dict(overrides))


_T = TypeVar("_T")


def _measure(name: str, where: str) -> Measure:
    try:
        return Measure(name)
    except ValueError:
        raise PathwayError(f"{where}: unknown measure {name!r}") from None


def _build(cls: type[_T], table: Mapping[str, Any], where: str) -> _T:
    fields = {f.name: f.type for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    if set(table) != set(fields):
        missing, extra = set(fields) - set(table), set(table) - set(fields)
        raise PathwayError(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
    values: dict[str, Any] = {}
    for name, kind in fields.items():
        value, place = table[name], f"{where}.{name}"
        if kind == "Severity":
            values[name] = severity(value, place)
        else:
            values[name] = number(value, int if kind == "int" else float, place)
    return cls(**values)


def parse_pathways(document: Mapping[str, Any]) -> dict[str, Pathway]:
    """Pathways from a parsed pathway document (see ``pathways.toml``)."""
    if DEFAULT not in document:
        raise PathwayError(f"the pathway file has no [{DEFAULT}] table")
    base = document[DEFAULT]
    pathways: dict[str, Pathway] = {}
    for name, table in document.items():
        if name == TUNING:
            continue
        if not isinstance(table, dict):
            raise PathwayError(f"{name}: expected a table")
        unknown = set(table) - {
            "description",
            "post_discharge_days",
            "schedule",
            "limits",
            *_SECTIONS,
        }
        if unknown:
            raise PathwayError(f"{name}: unknown keys {sorted(unknown)}")
        sections = {
            section: _build(
                cls, base.get(section, {}) | table.get(section, {}), f"{name}.{section}"
            )
            for section, cls in _SECTIONS.items()
        }
        schedule = {
            _measure(m, name): number(h, float, f"{name}.schedule.{m}")
            for m, h in table.get("schedule", {}).items()
        }
        # A pathway's limits of a measure override single keys of [default]'s.
        inherited, own = base.get("limits", {}), table.get("limits", {})
        limits: dict[Measure, MeasureLimits] = {}
        for m in inherited | own:
            values = flatten(inherited.get(m, {})) | flatten(own.get(m, {}))
            measure = _measure(m, name)
            limits[measure] = parse_limits(measure, values, f"{name}.limits.{m}")
        pathways[name] = Pathway(
            name=name,
            description=str(table.get("description", base.get("description", ""))),
            post_discharge_days=int(
                number(
                    table.get("post_discharge_days", base.get("post_discharge_days")),
                    int,
                    f"{name}.post_discharge_days",
                )
            ),
            schedule=schedule,
            limits=limits,
            **sections,
        )
    return pathways


def load_pathways(path: Path = PATHWAYS_FILE) -> dict[str, Pathway]:
    """Every pathway in the pathway file at ``path``."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PathwayError(f"cannot read {path}: {exc}") from exc
    return parse_pathways(document)


def parse_tuning(document: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The seeds each simulator generator was tuned on, from a pathway document.

    >>> parse_tuning({"tuning": {"v1": [0, 1]}})
    {'v1': (0, 1)}
    """
    table = document.get(TUNING, {})
    if not isinstance(table, dict):
        raise PathwayError(f"[{TUNING}] must be a table of seed lists")
    out: dict[str, tuple[int, ...]] = {}
    for generator, seeds in table.items():
        if not isinstance(seeds, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in seeds
        ):
            raise PathwayError(f"{TUNING}.{generator}: expected a list of seeds")
        out[str(generator)] = tuple(seeds)
    return out


@functools.cache
def tuning_seeds() -> Mapping[str, tuple[int, ...]]:
    """The seeds, by simulator generator, that the shipped numbers were tuned on."""
    try:
        document = tomllib.loads(PATHWAYS_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PathwayError(f"cannot read {PATHWAYS_FILE}: {exc}") from exc
    return MappingProxyType(parse_tuning(document))


@functools.cache
def _shipped() -> Mapping[str, Pathway]:
    return MappingProxyType(load_pathways())


def get_pathway(name: str) -> Pathway:
    """The shipped pathway called ``name`` (``CHF``, ``COPD``, ``HTN``, ``default``)."""
    try:
        return _shipped()[name]
    except KeyError:
        raise UnknownPathwayError(f"no pathway {name!r}; known: {sorted(_shipped())}") from None
