"""Care pathways: which measures a patient takes, how often, and their limits.

Every number lives in ``pathways.toml`` beside this module. Each pathway
inherits every table of ``[default]`` except ``schedule`` and overrides what
differs; a patient may override single values on top::

    >>> chf = get_pathway("CHF")
    >>> chf.thresholds.weight_gain_short_kg
    2.0
    >>> sorted(m.value for m in chf.schedule)
    ['blood-pressure', 'body-weight']
    >>> get_pathway("COPD").thresholds.spo2_low
    85.0
    >>> chf.with_overrides({"spo2_low": 86, "heart_failure.severity": "high"}).thresholds.spo2_low
    86.0
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

from hub.alerting import LIMIT_KINDS, Severity
from hub.domain import Measure
from hub.exceptions import PathwayError, UnknownPathwayError
from hub.pathway_params import (
    AdherenceParams,
    BaselineParams,
    Confirmation,
    Episodes,
    HeartFailureParams,
    MeasureLimits,
    PressureParams,
    RespiratoryParams,
    Severities,
    Thresholds,
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

        A bare key names a threshold (``"spo2_low"``); ``"section.field"``
        names any other value (``"severity.bp_low"``, ``"baseline.weight_warmup"``,
        ``"schedule.body-weight"``, ``"limits.<measure>.high"`` of a measure the
        pathway limits). Unknown keys raise :class:`PathwayError`.
        """
        sections: dict[str, dict[str, Any]] = {}
        schedule = dict(self.schedule)
        limits = dict(self.limits)
        for key, value in overrides.items():
            section, _, name = key.rpartition(".") if "." in key else ("thresholds", "", key)
            if section == "schedule":
                schedule[_measure(name, self.name)] = _number(value, float, key)
                continue
            if section.startswith("limits."):
                measure = _measure(section.removeprefix("limits."), key)
                if measure not in limits:
                    raise PathwayError(f"unknown override {key!r}: {self.name} has no such limits")
                current = dataclasses.asdict(limits[measure])
                if name not in current:
                    raise PathwayError(f"unknown override {key!r}")
                limits[measure] = _build(MeasureLimits, current | {name: value}, key)
                continue
            if section not in _SECTIONS:
                raise PathwayError(f"unknown override {key!r}")
            sections.setdefault(section, {})[name] = value
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


def _number(value: object, kind: type[float] | type[int], where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PathwayError(f"{where}: expected a number, got {value!r}")
    if kind is int and value != int(value):
        raise PathwayError(f"{where}: expected a whole number, got {value!r}")
    return kind(value)


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
            try:
                values[name] = Severity(value)
            except ValueError:
                raise PathwayError(f"{place}: unknown severity {value!r}") from None
        else:
            values[name] = _number(value, int if kind == "int" else float, place)
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
            _measure(m, name): _number(h, float, f"{name}.schedule.{m}")
            for m, h in table.get("schedule", {}).items()
        }
        limits = {
            _measure(m, name): _build(MeasureLimits, values, f"{name}.limits.{m}")
            for m, values in (base.get("limits", {}) | table.get("limits", {})).items()
        }
        for measure in limits:
            if (measure, True) not in LIMIT_KINDS or (measure, False) not in LIMIT_KINDS:
                raise PathwayError(f"{name}.limits.{measure}: no alert kinds for its limits")
        pathways[name] = Pathway(
            name=name,
            description=str(table.get("description", base.get("description", ""))),
            post_discharge_days=int(
                _number(
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
