"""The shape of a rules file: frozen pydantic models, one per table.

The models check types and single values; :func:`billing.rules.load_rules`
checks what spans tables (tiers that overlap, a rule naming an unknown
source) and turns every failure into a coded
:class:`~billing.exceptions.RulesError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.care_programs import Complexity, DischargeSetting, ProgramKind

#: A CPT or HCPCS code: five digits, or a letter and four digits.
Code = Annotated[str, StringConstraints(pattern=r"^(\d{5}|[A-Z]\d{4})$")]
#: Why a setting has its value, where sources disagree.
Why = Annotated[str, StringConstraints(min_length=20)]
Positive = Annotated[int, Field(gt=0)]
NonNegative = Annotated[int, Field(ge=0)]


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Table):
    """Where rules come from, and what was confirmed against it."""

    title: str
    url: Annotated[str, StringConstraints(pattern=r"^https://")]
    checked: str


class Meta(_Table):
    id: str
    title: str
    effective_from: date
    effective_through: date

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.effective_through


class DeviceTier(_Table):
    """A device-supply code and the counts of days in a period that earn it."""

    code: Code
    min_days: Positive
    max_days: Positive
    source: str


class Setup(_Table):
    """The once-per-episode set-up code and the days of data it waits for."""

    code: Code
    source: str
    min_days: Positive
    min_days_why: Why


class Rpm(_Table):
    source: str
    period_days: Positive
    device_supply: tuple[DeviceTier, ...] = Field(min_length=1)
    setup: Setup

    def tier_for(self, days: int) -> DeviceTier | None:
        """The device-supply tier a period with ``days`` days of data earns, if any."""
        for tier in self.device_supply:
            if tier.min_days <= days <= tier.max_days:
                return tier
        return None

    @property
    def tiers_by_days(self) -> tuple[DeviceTier, ...]:
        """The tiers, the one needing most days first."""
        return tuple(sorted(self.device_supply, key=lambda t: -t.min_days))


class FirstCode(_Table):
    code: Code
    min_minutes: Positive


class AddOn(_Table):
    code: Code
    after: Code
    each_minutes: Positive
    max_units: NonNegative
    max_units_why: Why


class TimeProgram(_Table):
    """A programme's time codes for one calendar month."""

    source: str
    requires_interactive_contact: bool
    requires_interactive_contact_why: Why
    first: tuple[FirstCode, ...] = Field(min_length=1)
    additional: AddOn | None = None
    combine_first_codes: bool
    combine_first_codes_why: Why

    @property
    def firsts_by_minutes(self) -> tuple[FirstCode, ...]:
        """The first codes, the one needing most minutes first."""
        return tuple(sorted(self.first, key=lambda f: -f.min_minutes))


class TcmCode(_Table):
    code: Code
    complexities: frozenset[Complexity] = Field(min_length=1)
    face_to_face_within_days: NonNegative
    source: str


class Tcm(_Table):
    source: str
    service_period_days: Positive
    service_period_source: str
    contact_business_days: Positive
    holiday_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    holiday_source: str
    unsuccessful_attempts: Positive
    unsuccessful_attempts_source: str
    qualifying_settings: frozenset[DischargeSetting] = Field(min_length=1)
    codes: tuple[TcmCode, ...] = Field(min_length=1)


class Rules(_Table):
    """One rules file, validated: what ``billing`` counts against for its dates."""

    meta: Meta
    sources: Mapping[str, Source]
    rpm: Rpm
    time: Mapping[ProgramKind, TimeProgram]
    tcm: Tcm

    def program(self, program: ProgramKind) -> TimeProgram:
        return self.time[program]

    def cited(self) -> Iterator[tuple[str, str]]:
        """Every (where, source key) the file cites, for the loader's check."""
        yield from _cited(self, "")


def _cited(node: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            here = f"{where}.{name}" if where else name
            if (name == "source" or name.endswith("_source")) and isinstance(value, str):
                yield here, value
            elif name != "sources":
                yield from _cited(value, here)
    elif isinstance(node, tuple):
        for i, item in enumerate(node):
            yield from _cited(item, f"{where}[{i}]")
    elif isinstance(node, Mapping):
        for key, item in node.items():
            yield from _cited(item, f"{where}.{key}")
