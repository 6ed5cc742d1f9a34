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

PATHWAYS_FILE = Path(__file__).with_name("pathways.toml")
DEFAULT = "default"
#: The table naming the seeds the shipped numbers were tuned on (not a pathway).
TUNING = "tuning"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Safety limits; ``*_high`` of blood pressure and the drop are inclusive."""

    systolic_high: float
    diastolic_high: float
    systolic_low: float
    spo2_low: float
    spo2_drop: float
    hr_high: float
    hr_low: float
    weight_gain_short_kg: float
    weight_gain_short_hours: float
    weight_gain_week_kg: float
    weight_gain_week_days: float
    systolic_high_at_once: float
    diastolic_high_at_once: float
    systolic_low_at_once: float
    spo2_low_at_once: float
    hr_high_at_once: float
    hr_low_at_once: float
    weight_gain_at_once_kg: float


@dataclass(frozen=True, slots=True)
class Severities:
    """The severity each rule or model reports."""

    bp_high: Severity
    bp_low: Severity
    spo2_low: Severity
    spo2_drop: Severity
    hr_high: Severity
    hr_low: Severity
    weight_gain_rule: Severity
    missed_readings: Severity
    device_never_active: Severity
    frequency_drop: Severity
    device_problem: Severity


@dataclass(frozen=True, slots=True)
class Confirmation:
    """How many readings in a row a safety rule needs (beyond its at-once limit: one)."""

    readings: int
    within_hours: float
    weight_days: int
    #: Severity of a finding beyond a safety limit that is not (yet) confirmed.
    unconfirmed_severity: Severity
    #: Whether such findings reach the worklist at all (1) or wait for the
    #: confirming reading (0).
    report_unconfirmed: int


@dataclass(frozen=True, slots=True)
class Episodes:
    recovery_readings: int
    stale_after_hours: float


@dataclass(frozen=True, slots=True)
class BaselineParams:
    spo2_fading: float
    spo2_warmup: int
    spo2_spread_floor: float
    spo2_drop_confirm: int
    band_spreads: float
    spo2_drop_enabled: int


@dataclass(frozen=True, slots=True)
class ScoreParams:
    """A fused score's settings (see ``streaming.detectors.fused``)."""

    enabled: int
    allowance: float
    limit: float
    escalate: float
    clip: float
    persist: float
    persist_days: int
    fading: float
    spread_fading: float
    warmup: int
    hold_days: int
    settle: float
    relearn_days: int
    gate: float
    severity: Severity
    escalated_severity: Severity


@dataclass(frozen=True, slots=True)
class HeartFailureParams(ScoreParams):
    rule_opens: int
    weight_floor: float
    weight_prior: float
    hr_weight: float
    hr_floor: float
    hr_prior: float
    spo2_weight: float
    spo2_floor: float
    spo2_prior: float


@dataclass(frozen=True, slots=True)
class RespiratoryParams(ScoreParams):
    spo2_weight: float
    spo2_floor: float
    spo2_prior: float
    hr_weight: float
    hr_floor: float
    hr_prior: float


@dataclass(frozen=True, slots=True)
class PressureParams(ScoreParams):
    systolic_floor: float
    systolic_prior: float


@dataclass(frozen=True, slots=True)
class AdherenceParams:
    grace_hours: float
    activation_days: float
    recent_days: float
    previous_days: float
    ratio: float
    min_previous: int
    recovered_ratio: float
    low_battery_percent: float
    battery_recent_hours: float


@dataclass(frozen=True, slots=True)
class MeasureLimits:
    """Safety limits of one measure's value, from the pathway's ``[<pathway>.limits.<measure>]``.

    Keyed by measure, in the measure's canonical unit: a value strictly above
    ``high`` or below ``low`` breaks the limit (confirmed as the safety rules
    are, see ``streaming.detectors.safety``); beyond ``*_at_once`` one reading
    is enough. A measure without such a table has no such rule on the pathway.
    """

    high: float
    high_at_once: float
    low: float
    low_at_once: float
    severity: Severity


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
