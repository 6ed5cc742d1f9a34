"""The versioned rules files: loaded, validated and chosen by service date.

Each ``cms-<year>.toml`` beside this module is one calendar year's rules. A
file is read once and refused whole, with a coded
:class:`~billing.exceptions.RulesError`, if anything in it is wrong::

    >>> rules = rules_for(date(2026, 7, 1))
    >>> rules.meta.id, rules.rpm.period_days, rules.rpm.setup.code
    ('cms-2026', 30, '99453')
    >>> [t.code for t in rules.rpm.tiers_by_days]
    ['99454', '99445']
    >>> rules_for(date(2025, 12, 31))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    billing.exceptions.NoRulesError: rules_not_found: no rules file covers 2025-12-31 ...
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import holidays
from pydantic import ValidationError

from billing.exceptions import NoRulesError, RulesError, RulesErrorCode
from billing.rules.schema import Rules, TimeProgram
from hub.care_programs import ProgramKind

__all__ = [
    "RULES_DIR",
    "Rules",
    "in_force",
    "load_rules",
    "rules_for",
    "shipped_rules",
    "working_rules",
]

#: Where the shipped rules files are.
RULES_DIR = Path(__file__).parent


def load_rules(path: Path) -> Rules:
    """Read, validate and cross-check one rules file.

    Its ``meta.id`` must equal the file's name without ``.toml``.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(RulesErrorCode.UNREADABLE, f"{path.name}: {exc}") from exc
    try:
        rules = Rules.model_validate(raw)
    except ValidationError as exc:
        invalid = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise RulesError(RulesErrorCode.INVALID, f"{path.name}: {invalid}") from None
    problems = list(_inconsistencies(rules, path.stem))
    if problems:
        raise RulesError(RulesErrorCode.INCONSISTENT, f"{path.name}: {'; '.join(problems)}")
    return rules


@functools.cache
def shipped_rules(directory: Path = RULES_DIR) -> tuple[Rules, ...]:
    """Every rules file in ``directory``, oldest first; two may not cover one day."""
    found = sorted(
        (load_rules(p) for p in directory.glob("*.toml")), key=lambda r: r.meta.effective_from
    )
    for earlier, later in itertools.pairwise(found):
        if later.meta.effective_from <= earlier.meta.effective_through:
            raise RulesError(
                RulesErrorCode.OVERLAP,
                f"{earlier.meta.id} and {later.meta.id} both cover {later.meta.effective_from}",
            )
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def rules_for(day: date, directory: Path = RULES_DIR) -> Rules:
    """The rules in force on the service date ``day`` (remembered: asked per period and
    patient by a month-end export)."""
    shipped = shipped_rules(directory)
    for rules in shipped:
        if rules.meta.covers(day):
            return rules
    files = ", ".join(r.meta.id for r in shipped) or "none"
    raise NoRulesError(f"no rules file covers {day.isoformat()} (files: {files})")


@functools.lru_cache(maxsize=4096)
def working_rules(day: date, directory: Path = RULES_DIR) -> Rules:
    """The rules in force on ``day``; past the last file the last, before the first the first.

    For what a coordinator works by every day — transitional-care clocks, the
    forecast, the care progress, the demo — which must not stop on 1 January
    while next year's fee schedule file is still to be written. What is
    claimed asks :func:`rules_for`, which refuses a date no file covers.

    Remembered like :func:`rules_for`: the daily forecast asks it for every period of
    every RPM episode, and a day before the first file would otherwise raise (and
    catch) :class:`NoRulesError` each time.
    """
    try:
        return rules_for(day, directory)
    except NoRulesError:
        shipped = shipped_rules(directory)
        if not shipped:
            raise
        return shipped[-1] if day > shipped[-1].meta.effective_through else shipped[0]


def in_force(day: date, rules: Rules | None = None) -> Rules:
    """``rules`` when given (a caller's choice, or a test's), else ``working_rules(day)``."""
    return rules if rules is not None else working_rules(day)


def _inconsistencies(rules: Rules, stem: str) -> Iterable[str]:
    meta = rules.meta
    if meta.id != stem:
        yield f"meta.id {meta.id!r} is not the file's name {stem!r}"
    if meta.effective_through < meta.effective_from:
        yield "meta.effective_through is before meta.effective_from"
    for where, key in rules.cited():
        if key not in rules.sources:
            yield f"{where} names the source {key!r}, which [sources] does not list"
    yield from _rpm_inconsistencies(rules)
    for program in (k for k in ProgramKind if k.timed):
        if program not in rules.time:
            yield f"time.{program.value} is missing"
        else:
            yield from _time_inconsistencies(rules.time[program], f"time.{program.value}")
    tcm = rules.tcm
    if tcm.holiday_country not in holidays.list_supported_countries():
        yield f"tcm.holiday_country {tcm.holiday_country!r} has no holiday calendar"
    if len({c.code for c in tcm.codes}) != len(tcm.codes):
        yield "tcm.codes repeats a code"
    for c in tcm.codes:
        if c.face_to_face_within_days >= tcm.service_period_days:
            yield f"tcm code {c.code}: its visit deadline is past the service period"


def _rpm_inconsistencies(rules: Rules) -> Iterable[str]:
    rpm = rules.rpm
    tiers = rpm.tiers_by_days
    if len({t.code for t in tiers}) != len(tiers):
        yield "rpm.device_supply repeats a code"
    for tier in tiers:
        if tier.min_days > tier.max_days:
            yield f"rpm.device_supply {tier.code}: min_days above max_days"
        if tier.max_days > rpm.period_days:
            yield f"rpm.device_supply {tier.code}: max_days above period_days"
    for higher, lower in itertools.pairwise(tiers):
        if lower.max_days >= higher.min_days:
            yield f"rpm.device_supply {lower.code} and {higher.code} overlap"
    if rpm.setup.min_days > rpm.period_days:
        yield "rpm.setup.min_days above period_days"


def _time_inconsistencies(program: TimeProgram, where: str) -> Iterable[str]:
    firsts = program.firsts_by_minutes
    if len({f.code for f in firsts}) != len(firsts):
        yield f"{where}.first repeats a code"
    if len({f.min_minutes for f in firsts}) != len(firsts):
        yield f"{where}.first has two codes with the same minutes"
    extra = program.additional
    if extra is not None and extra.after not in {f.code for f in firsts}:
        yield f"{where}.additional.after {extra.after!r} is not one of its first codes"
    if program.combine_first_codes:
        if len(firsts) < 2:
            yield f"{where}.combine_first_codes needs two first codes"
        elif extra is not None and firsts[-1].min_minutes >= extra.each_minutes:
            yield f"{where}.combine_first_codes: the short code is not shorter than an add-on"
