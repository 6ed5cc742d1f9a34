"""Request and response bodies of care programmes and the time log (``api.views.programs``).

The rules (NPI check digit, ICD-10-CM shape, CCM's two conditions, consent
before time) are the ``programs`` package's; a body here only has the right
types and sizes, and a refusal comes back as ``{"code": ..., "detail": ...}``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from programs.models import (
    Activity,
    ConsentMethod,
    ContactMethod,
    EntrySource,
    Episode,
    Fact,
    Record,
    Statement,
    Tcm,
    TimeEntry,
    Timer,
    Work,
    milestones,
)

#: Minutes of one entry: up to a day.
MAX_MINUTES = 24 * 60


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PractitionerIn(_Body):
    name: str = Field(min_length=1, max_length=200)
    npi: str = Field(
        min_length=1, max_length=20, description="Ten digits, the last the NPI check digit."
    )


class ConsentIn(_Body):
    on: date = Field(description="The day the patient consented (not in the future).")
    method: ConsentMethod

    def statements(self) -> tuple[Statement, ...]:
        return (Statement.consent(self.on, self.method),)


class SetupIn(_Body):
    """RPM's device set-up and education (99453), once per episode."""

    on: date
    by: str = Field(min_length=1, max_length=200, description="Who did it (a name).")

    def statements(self) -> tuple[Statement, ...]:
        return (Statement.setup(self.on, self.by),)


class TcmMilestonesIn(_Body):
    """TCM milestones to record; each is recorded once (409 ``already_recorded`` after)."""

    complexity: Complexity | None = Field(
        default=None, description="Medical decision making: moderate (99495) or high (99496)."
    )
    med_reconciled_on: date | None = None
    face_to_face_on: date | None = None
    first_contact_at: AwareDatetime | None = Field(
        default=None, description="The first interactive contact after the discharge."
    )

    def statements(self) -> tuple[Statement, ...]:
        return milestones(**self.model_dump(include=set(TcmMilestonesIn.model_fields)))


class ContactAttemptIn(_Body):
    """An unsuccessful attempt at a TCM programme's interactive contact, by the caller."""

    at: AwareDatetime = Field(description="When it was made (not in the future).")
    method: ContactMethod = Field(description="telephone, electronic or in_person.")
    note: str | None = Field(default=None, max_length=2000)

    def statement(self, by: UUID) -> Statement:
        return Statement.attempt(self.at, self.method, by, self.note)


class TcmIn(TcmMilestonesIn):
    discharged_on: date
    setting: DischargeSetting

    def to_tcm(self) -> Tcm:
        return Tcm(**self.model_dump())


class ProgramIn(_Body):
    kind: ProgramKind
    started_on: date | None = Field(
        default=None, description="Required but for TCM, whose episode starts at the discharge."
    )
    ordering: PractitionerIn = Field(description="The ordering (billing) practitioner.")
    conditions: list[str] = Field(
        default_factory=list,
        max_length=30,
        description="ICD-10-CM codes (I50.22 or I5022); CCM needs two or more.",
    )
    consent: ConsentIn | None = None
    setup: SetupIn | None = Field(default=None, description="RPM only.")
    tcm: TcmIn | None = Field(default=None, description="TCM only, and required for it.")

    def statements(self) -> tuple[Statement, ...]:
        """The consent and the set-up that come with the start, if any."""
        given = (self.consent, self.setup)
        return tuple(s for body in given if body is not None for s in body.statements())


class EndIn(_Body):
    ended_on: date = Field(description="The episode's last day.")


class PractitionerOut(BaseModel):
    name: str
    npi: str


class ConsentOut(ConsentIn):
    recorded_by: UUID
    recorded_at: datetime


class SetupOut(SetupIn):
    recorded_by: UUID
    recorded_at: datetime | None = Field(description="Null if recorded before migration 0028.")


class RecordOut(BaseModel):
    """A fact recorded of the programme (its value: the fields the fact takes), with who
    recorded it and when; a correction names the record it supersedes and why."""

    id: int
    fact: Fact
    on: date | None
    at: datetime | None
    method: str | None
    by: str | None = Field(description="Who did the RPM set-up (a name).")
    complexity: Complexity | None
    attempted_by: UUID | None = Field(description="Who attempted the contact.")
    attempted_by_name: str | None
    note: str | None
    recorded_by: UUID | None = Field(description="Null if carried over by migration 0028.")
    recorded_by_name: str | None = Field(description="The recorder's user name.")
    recorded_at: datetime | None
    supersedes: int | None = Field(description="The record this one corrects.")
    reason: str | None = Field(description="Why, on a correction.")
    withdrawn: bool = Field(description="A correction that withdraws the value (none here).")
    superseded_by: int | None = Field(description="The correction that replaces this one.")
    current: bool = Field(description="Not superseded, and not a withdrawal: it holds now.")

    @classmethod
    def of(cls, record: Record) -> RecordOut:
        return cls(
            id=record.id,
            **asdict(record.statement),
            recorded_by=record.recorded_by,
            recorded_by_name=record.recorded_by_name,
            recorded_at=record.recorded_at,
            attempted_by_name=record.attempted_by_name,
            supersedes=record.supersedes,
            reason=record.reason,
            withdrawn=record.withdrawn,
            superseded_by=record.superseded_by,
            current=record.current,
        )


class RecordCorrectionIn(_Body):
    """What changes of a record's value (the rest stays as it was), and why; or
    ``withdraw: true`` (and nothing else) to withdraw it."""

    reason: str = Field(min_length=1, max_length=2000)
    withdraw: bool = False
    on: date | None = None
    at: AwareDatetime | None = None
    method: str | None = Field(
        default=None, max_length=40, description="Consent's (verbal, ...) or an attempt's."
    )
    by: str | None = Field(default=None, min_length=1, max_length=200)
    complexity: Complexity | None = None
    note: str | None = Field(default=None, max_length=2000)

    def changes(self) -> dict[str, Any]:
        """The value fields given (a null given clears a note)."""
        return {k: getattr(self, k) for k in self.model_fields_set - {"reason", "withdraw"}}


class TcmOut(BaseModel):
    discharged_on: date
    setting: DischargeSetting
    complexity: Complexity | None
    med_reconciled_on: date | None
    face_to_face_on: date | None
    first_contact_at: datetime | None


class ProgramOut(BaseModel):
    id: int
    patient_id: UUID
    kind: ProgramKind
    started_on: date
    ended_on: date | None
    ordering: PractitionerOut
    conditions: list[str]
    consent: ConsentOut | None
    setup: SetupOut | None
    tcm: TcmOut | None
    created_by: UUID
    created_at: datetime
    ended_by: UUID | None
    recorded: dict[Fact, RecordOut] = Field(
        description="Each fact recorded (consent, setup, complexity, med_reconciliation,"
        " face_to_face, contact): its record, with who recorded it and when."
    )
    contact_attempts: list[RecordOut] = Field(
        description="TCM: the unsuccessful attempts at the interactive contact, earliest first."
    )

    @classmethod
    def of(cls, episode: Episode) -> ProgramOut:
        recorded = {fact: RecordOut.of(r) for fact, r in episode.recorded.items()}
        attempts = [RecordOut.of(r) for r in episode.contact_attempts]
        fields = asdict(episode) | {"recorded": recorded, "contact_attempts": attempts}
        return cls.model_validate(fields)


class WorkIn(_Body):
    activity: Activity
    interactive: bool = Field(description="Real-time audio or video with the patient or caregiver.")
    note: str | None = Field(default=None, max_length=2000)

    def to_work(self) -> Work:
        return Work(activity=self.activity, interactive=self.interactive, note=self.note)


class TimeEntryIn(WorkIn):
    """Time as ``minutes`` (begun ``at``; default: just before now) or ``started_at`` and
    ``ended_at``."""

    program_id: int | None = Field(
        default=None, ge=1, description="Default: the patient's only open programme."
    )
    minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    alert_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class CorrectionIn(_Body):
    """What changes (the rest stays as it was), and why. ``minutes: 0`` withdraws the entry."""

    reason: str = Field(min_length=1, max_length=2000)
    program_id: int | None = Field(default=None, ge=1)
    minutes: int | None = Field(default=None, ge=0, le=MAX_MINUTES)
    at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    activity: Activity | None = None
    interactive: bool | None = None
    note: str | None = Field(default=None, max_length=2000)

    @property
    def changes_time(self) -> bool:
        return any(v is not None for v in (self.minutes, self.at, self.started_at, self.ended_at))


class TimeEntryOut(BaseModel):
    id: int
    program_id: int
    program_kind: ProgramKind
    patient_id: UUID
    coordinator_id: UUID
    started_at: datetime
    ended_at: datetime | None
    seconds: int
    minutes: float = Field(description="seconds / 60, to two decimals.")
    activity: Activity
    interactive: bool
    note: str | None
    alert_id: int | None
    source: EntrySource
    supersedes: int | None
    reason: str | None = Field(description="Why, on a correction.")
    superseded_by: int | None
    counts: bool = Field(description="Not superseded, and not withdrawn (0 s).")
    recorded_by: UUID
    recorded_at: datetime

    @classmethod
    def of(cls, entry: TimeEntry) -> TimeEntryOut:
        fields: dict[str, Any] = asdict(entry)
        work = fields.pop("work")
        return cls(
            **fields,
            **work,
            program_id=entry.episode_id,
            program_kind=entry.kind,
            minutes=round(entry.seconds / 60, 2),
            counts=entry.counts,
        )


class TimerStartIn(_Body):
    program_id: int | None = Field(
        default=None, ge=1, description="Default: the patient's only open programme."
    )
    alert_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class TimerOut(BaseModel):
    program_id: int
    alert_id: int | None
    started_at: datetime
    elapsed_seconds: int
    started: bool = Field(description="Whether this request started it (false: it was running).")

    @classmethod
    def of(cls, timer: Timer, *, now: datetime, started: bool = False) -> TimerOut:
        return cls(
            program_id=timer.episode_id,
            alert_id=timer.alert_id,
            started_at=timer.started_at,
            elapsed_seconds=max(0, int((now - timer.started_at).total_seconds())),
            started=started,
        )


class AlertTimeIn(WorkIn):
    """Time spent on an alert, logged with its acknowledgement or resolution."""

    minutes: int = Field(ge=1, le=MAX_MINUTES)
    program_id: int | None = Field(
        default=None, ge=1, description="Default: the patient's only open programme."
    )
