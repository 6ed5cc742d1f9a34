"""The rules of what is recorded of an episode beside its time: pure, no database.

A :class:`~programs.models.Statement` records one :class:`~programs.models.Fact`
(the patient's consent, the RPM set-up, a TCM milestone) with the fields that
fact takes. :func:`check` holds every rule of a statement on its episode, the
same for each fact; :func:`programs.episodes.record` stores what passes.

* Consent is recorded on any episode; the set-up on RPM episodes; the
  complexity, the milestones and the unsuccessful contact attempts on TCM
  episodes.
* Each fact once (:func:`recorded`), but the contact attempts: any number,
  each by the coordinator who made it, how (telephone, electronic, in
  person), with a note if any.
* Nothing is dated in the future (the patient's calendar; an instant not
  past now, but for a clock a little ahead); the set-up not after the
  episode ended; a TCM milestone or attempt not before the discharge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta

from hub.care_programs import ProgramKind
from programs.exceptions import InvalidDatesError, InvalidProgramError
from programs.models import ConsentMethod, ContactMethod, Episode, Fact, Statement

__all__ = [
    "CLOCK_SKEW",
    "FIELDS",
    "KIND",
    "LABEL",
    "MANY",
    "METHODS",
    "NOTED",
    "check",
    "recorded",
]

#: How far past now an instant may be (the caller's clock may run a little ahead).
CLOCK_SKEW = timedelta(minutes=2)
#: The facts recorded any number of times (the others once).
MANY = frozenset({Fact.CONTACT_ATTEMPT})

#: The value fields each fact takes (all of them; the others are None).
FIELDS: Mapping[Fact, frozenset[str]] = {
    Fact.CONSENT: frozenset({"on", "method"}),
    Fact.SETUP: frozenset({"on", "by"}),
    Fact.COMPLEXITY: frozenset({"complexity"}),
    Fact.MED_RECONCILIATION: frozenset({"on"}),
    Fact.FACE_TO_FACE: frozenset({"on"}),
    Fact.CONTACT: frozenset({"at"}),
    Fact.CONTACT_ATTEMPT: frozenset({"at", "method", "attempted_by"}),
}
_VALUES = ("on", "at", "method", "by", "complexity", "attempted_by")
#: The kind of ``method`` a fact takes, and the facts a note may come with.
METHODS: Mapping[Fact, type[ConsentMethod] | type[ContactMethod]] = {
    Fact.CONSENT: ConsentMethod,
    Fact.CONTACT_ATTEMPT: ContactMethod,
}
NOTED = frozenset({Fact.CONTACT_ATTEMPT})

#: The kind of episode a fact is recorded on (absent: any).
KIND: Mapping[Fact, ProgramKind] = {
    Fact.SETUP: ProgramKind.RPM,
    Fact.COMPLEXITY: ProgramKind.TCM,
    Fact.MED_RECONCILIATION: ProgramKind.TCM,
    Fact.FACE_TO_FACE: ProgramKind.TCM,
    Fact.CONTACT: ProgramKind.TCM,
    Fact.CONTACT_ATTEMPT: ProgramKind.TCM,
}

#: What the messages call each fact.
LABEL: Mapping[Fact, str] = {
    Fact.CONSENT: "the consent",
    Fact.SETUP: "the device set-up",
    Fact.COMPLEXITY: "the complexity",
    Fact.MED_RECONCILIATION: "the medication reconciliation",
    Fact.FACE_TO_FACE: "the face-to-face visit",
    Fact.CONTACT: "the interactive contact",
    Fact.CONTACT_ATTEMPT: "the contact attempt",
}


def check(statement: Statement, episode: Episode, *, now: datetime) -> Statement:
    """The statement as stored (``by`` stripped), if it may be recorded on the episode;
    else :class:`InvalidProgramError` or :class:`InvalidDatesError`."""
    fact = statement.fact
    kind = KIND.get(fact)
    if kind is not None and episode.kind is not kind:
        raise InvalidProgramError(
            f"{LABEL[fact]} is recorded on {kind} episodes, not {episode.kind}"
        )
    given = {name for name in _VALUES if getattr(statement, name) is not None}
    if given != FIELDS[fact] or (statement.note is not None and fact not in NOTED):
        raise InvalidProgramError(f"{fact} takes {', '.join(sorted(FIELDS[fact]))}")
    if statement.method is not None and not isinstance(statement.method, METHODS[fact]):
        raise InvalidProgramError(f"{statement.method} is not a method of {LABEL[fact]}")
    if statement.by is not None:
        statement = replace(statement, by=statement.by.strip())
        if not statement.by:
            raise InvalidProgramError("who did the set-up is missing")
    day = statement.on
    if statement.at is not None:
        if statement.at.utcoffset() is None:
            raise InvalidDatesError("times carry their offset from UTC")
        if statement.at > now + CLOCK_SKEW:
            raise InvalidDatesError(f"{LABEL[fact]} cannot be in the future")
        day = episode.local_date(statement.at)
    if day is not None:
        _check_day(fact, day, episode, now)
    return statement


def _check_day(fact: Fact, day: date, episode: Episode, now: datetime) -> None:
    if day > episode.local_date(now):
        raise InvalidDatesError(f"{LABEL[fact]} cannot be dated in the future")
    if fact is Fact.SETUP and episode.ended_on is not None and day > episode.ended_on:
        raise InvalidDatesError("the set-up is dated after the episode ended")
    discharge = episode.tcm.discharged_on if episode.tcm else None
    if KIND.get(fact) is ProgramKind.TCM and discharge is not None and day < discharge:
        raise InvalidDatesError(f"{LABEL[fact]} is dated before the discharge")


def recorded(episode: Episode, fact: Fact) -> bool:
    """Whether the episode has the fact recorded (once; never for the contact attempts)."""
    return fact not in MANY and fact in episode.recorded
