"""Types of care programmes and the time log: frozen, made from rows by the repository.

The programme kinds, discharge settings and complexity are the shared vocabulary
(:mod:`hub.care_programs`), which the billing rules read too.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from hub.care_programs import Complexity, DischargeSetting, ProgramKind


class ConsentMethod(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC = "electronic"


class ContactMethod(enum.StrEnum):
    """How an attempt at TCM's interactive contact was made (CMS: telephone, electronic
    means, or in person)."""

    TELEPHONE = "telephone"
    #: E-mail, a patient-portal message, a text, a video call.
    ELECTRONIC = "electronic"
    IN_PERSON = "in_person"


class Activity(enum.StrEnum):
    DATA_REVIEW = "data_review"
    CALL = "call"
    CARE_PLAN_UPDATE = "care_plan_update"
    MEDICATION_RECONCILIATION = "medication_reconciliation"
    EDUCATION = "education"
    OTHER = "other"


class EntrySource(enum.StrEnum):
    """How an entry came to be: typed in, a stopped timer, with an alert action, a correction."""

    MANUAL = "manual"
    TIMER = "timer"
    ALERT = "alert"
    CORRECTION = "correction"


class Fact(enum.StrEnum):
    """What is recorded of an episode beside its time: once each, but the contact attempts."""

    CONSENT = "consent"
    #: RPM: the device set-up and the patient's education on it (99453).
    SETUP = "setup"
    #: TCM: the medical decision making, and the milestones after the discharge.
    COMPLEXITY = "complexity"
    MED_RECONCILIATION = "med_reconciliation"
    FACE_TO_FACE = "face_to_face"
    #: TCM: the first interactive contact with the patient or caregiver.
    CONTACT = "contact"
    #: TCM: an unsuccessful attempt at it (any number; CMS counts two in time as the contact).
    CONTACT_ATTEMPT = "contact_attempt"


@dataclass(frozen=True, slots=True)
class Statement:
    """A fact to record of an episode, with its value: the fields the fact takes
    (:data:`programs.facts.FIELDS`), the others None."""

    fact: Fact
    on: date | None = None
    at: datetime | None = None
    #: How consent was given, or how a contact was attempted.
    method: ConsentMethod | ContactMethod | None = None
    #: Who did the RPM set-up (a name: not necessarily a Lastmile user).
    by: str | None = None
    complexity: Complexity | None = None
    #: The coordinator who attempted the contact.
    attempted_by: UUID | None = None
    note: str | None = None

    @classmethod
    def consent(cls, on: date, method: ConsentMethod) -> Statement:
        return cls(Fact.CONSENT, on=on, method=method)

    @classmethod
    def setup(cls, on: date, by: str) -> Statement:
        return cls(Fact.SETUP, on=on, by=by)

    @classmethod
    def attempt(
        cls, at: datetime, method: ContactMethod, by: UUID, note: str | None = None
    ) -> Statement:
        """An unsuccessful attempt at the interactive contact, made by the user ``by``."""
        return cls(Fact.CONTACT_ATTEMPT, at=at, method=method, attempted_by=by, note=note)


def milestones(
    *,
    complexity: Complexity | None = None,
    med_reconciled_on: date | None = None,
    face_to_face_on: date | None = None,
    first_contact_at: datetime | None = None,
) -> tuple[Statement, ...]:
    """The statements of the TCM milestones given (the ones None are left out).

    >>> [s.fact.value for s in milestones(face_to_face_on=date(2026, 3, 6))]
    ['face_to_face']
    """
    given = (
        (complexity, Statement(Fact.COMPLEXITY, complexity=complexity)),
        (med_reconciled_on, Statement(Fact.MED_RECONCILIATION, on=med_reconciled_on)),
        (face_to_face_on, Statement(Fact.FACE_TO_FACE, on=face_to_face_on)),
        (first_contact_at, Statement(Fact.CONTACT, at=first_contact_at)),
    )
    return tuple(statement for value, statement in given if value is not None)


@dataclass(frozen=True, slots=True)
class Record:
    """A statement recorded of an episode: a row of its append-only record (migration 0028).

    A correction is a record that ``supersedes`` an earlier one of the same fact,
    with its ``reason``; a withdrawal is one without a value (its statement names
    the fact only).

    ``recorded_by`` (and their user name) and ``recorded_at`` say who recorded
    it and when; None only for what migration 0028 carried over from before
    either was kept.
    """

    id: int
    episode_id: int
    statement: Statement
    recorded_by: UUID | None
    recorded_by_name: str | None
    recorded_at: datetime | None
    #: A contact attempt's coordinator's user name.
    attempted_by_name: str | None = None
    #: The record this one corrects, and why; a withdrawal carries no value.
    supersedes: int | None = None
    reason: str | None = None
    withdrawn: bool = False
    #: The correction that replaces this record, if any.
    superseded_by: int | None = None

    @property
    def fact(self) -> Fact:
        return self.statement.fact

    @property
    def current(self) -> bool:
        """Whether it holds now: no correction replaces it, and it is not a withdrawal."""
        return self.superseded_by is None and not self.withdrawn


@dataclass(frozen=True, slots=True)
class Practitioner:
    """The ordering (billing) practitioner."""

    name: str
    npi: str


@dataclass(frozen=True, slots=True)
class Consent:
    on: date
    method: ConsentMethod
    recorded_by: UUID
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Setup:
    """An RPM episode's device set-up and patient education (99453, once per episode)."""

    on: date
    by: str
    recorded_by: UUID
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tcm:
    """A TCM episode's discharge and milestones (a milestone is None until it happens)."""

    discharged_on: date
    setting: DischargeSetting
    complexity: Complexity | None = None
    med_reconciled_on: date | None = None
    face_to_face_on: date | None = None
    first_contact_at: datetime | None = None

    def milestones(self) -> tuple[Statement, ...]:
        """The milestones recorded, as statements."""
        return milestones(
            complexity=self.complexity,
            med_reconciled_on=self.med_reconciled_on,
            face_to_face_on=self.face_to_face_on,
            first_contact_at=self.first_contact_at,
        )


@dataclass(frozen=True, slots=True)
class Episode:
    id: int
    patient_id: UUID
    kind: ProgramKind
    started_on: date
    ended_on: date | None
    ordering: Practitioner
    #: ICD-10-CM codes, normalized (:func:`programs.codes.normalize_icd10cm`).
    conditions: tuple[str, ...]
    consent: Consent | None
    setup: Setup | None
    tcm: Tcm | None
    created_by: UUID
    created_at: datetime
    ended_by: UUID | None
    #: The patient's IANA time zone: the calendar the episode's dates are on.
    timezone: str = "UTC"
    #: Each fact recorded (consent, set-up, TCM milestones): its record, with who and when.
    recorded: Mapping[Fact, Record] = field(default_factory=dict)
    #: TCM: the unsuccessful attempts at the interactive contact, the earliest first.
    contact_attempts: tuple[Record, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def local_date(self, at: datetime) -> date:
        """The day ``at`` falls on, on the patient's calendar."""
        return at.astimezone(ZoneInfo(self.timezone)).date()

    def covers(self, day: date) -> bool:
        """Whether ``day`` is within the episode (its start and end days included)."""
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


@dataclass(frozen=True, slots=True)
class Work:
    """What a coordinator did in some time: the activity, whether live, a note."""

    activity: Activity
    #: Real-time audio or video with the patient or caregiver.
    interactive: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TimeEntry:
    id: int
    episode_id: int
    kind: ProgramKind
    patient_id: UUID
    coordinator_id: UUID
    started_at: datetime
    ended_at: datetime | None
    seconds: int
    work: Work
    alert_id: int | None
    source: EntrySource
    #: The entry this one corrects, and why.
    supersedes: int | None
    reason: str | None
    recorded_by: UUID
    recorded_at: datetime
    #: The correction that replaces this entry, if any.
    superseded_by: int | None

    @property
    def counts(self) -> bool:
        """Whether the entry's time counts: not superseded, and not a withdrawal (0 s)."""
        return self.superseded_by is None and self.seconds > 0


@dataclass(frozen=True, slots=True)
class Timer:
    """A coordinator's running timer on a patient, toward one episode."""

    coordinator_id: UUID
    patient_id: UUID
    episode_id: int
    alert_id: int | None
    started_at: datetime
