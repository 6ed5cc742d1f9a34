"""Types of a simulated practice's care: planned programme episodes, time entries, stories.

All simulated; frozen; times timezone-aware UTC. The programme vocabulary
(kinds, activities, consent methods, discharge settings, complexity) is the
``programs`` package's, so what is planned here is what the hub stores.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from hub.care_programs import ProgramKind
from programs.models import ConsentMethod, Practitioner, Tcm, Work

#: Simulated nurses per cohort: each patient has one; the other covers now and then.
NURSES = 2


class DeviceOutlook(enum.StrEnum):
    """Where the open 30-day RPM period stands today against 99454's 16 days with data."""

    REACHED = "reached"
    REACHABLE = "reachable"
    #: Too few days left to reach 16 (the patient skips days, or stopped).
    LOST = "lost"


class Pace(enum.StrEnum):
    """How a programme's month of coordinator time goes."""

    #: 20 minutes or more, with a live (interactive) call.
    ON_TRACK = "on_track"
    #: Close to a threshold: a few minutes short of 20, or 20 without a live call yet.
    SHORT = "short"
    #: A few minutes of data review, no live call.
    BEHIND = "behind"


class TcmStory(enum.StrEnum):
    """Where a recent discharge stands against its transitional-care clocks."""

    #: No contact yet; the 2-business-day deadline is today (or the next business day).
    CONTACT_DUE = "contact_due"
    #: The contact deadline passed; one unanswered call.
    CONTACT_OVERDUE = "contact_overdue"
    #: Contacted and medicines reconciled; the face-to-face visit is still ahead.
    VISIT_PENDING = "visit_pending"
    #: Contact, medicines and the face-to-face visit done in time.
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class PlannedEpisode:
    """One programme episode as the practice records it (``POST .../programs``)."""

    kind: ProgramKind
    started_on: date
    ordering: Practitioner
    conditions: tuple[str, ...]
    consent_on: date | None = None
    consent_method: ConsentMethod = ConsentMethod.VERBAL
    #: RPM's device set-up and education (99453), on the first day.
    setup_on: date | None = None
    tcm: Tcm | None = None


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """Time a simulated nurse (index below :data:`NURSES`) logs toward one programme."""

    kind: ProgramKind
    started_at: datetime
    minutes: int
    work: Work
    nurse: int


@dataclass(frozen=True, slots=True)
class PatientCare:
    """One simulated patient's programmes and logged time, and what they were aimed at."""

    gateway_key: str
    nurse: int
    episodes: tuple[PlannedEpisode, ...]
    entries: tuple[PlannedEntry, ...]
    #: The open RPM period's standing today (None without a consented RPM episode).
    device: DeviceOutlook | None = None
    #: This month's RPM pace (None without a consented RPM episode).
    pace: Pace | None = None
    tcm: TcmStory | None = None

    def episode(self, kind: ProgramKind) -> PlannedEpisode | None:
        return next((e for e in self.episodes if e.kind is kind), None)


@dataclass(frozen=True, slots=True)
class CarePlan:
    """A cohort's care at ``now`` (the end of the cohort's window)."""

    now: datetime
    practitioners: tuple[Practitioner, ...]
    patients: tuple[PatientCare, ...]

    def of(self, gateway_key: str) -> PatientCare:
        return next(p for p in self.patients if p.gateway_key == gateway_key)
