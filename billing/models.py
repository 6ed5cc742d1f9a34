"""The evidence billing counts: frozen inputs that the caller builds from what it stores.

Instants are timezone-aware (any offset; they are compared as instants). Local
days and calendar months are the patient's, in the IANA zone the caller gives
(:func:`zone`): a reading at 03:30 UTC is on the previous day in New York.

    >>> from datetime import UTC, datetime
    >>> local_day(datetime(2026, 3, 2, 3, 30, tzinfo=UTC), "America/New_York")
    datetime.date(2026, 3, 1)
    >>> Month.of(date(2026, 2, 14)).last_day
    datetime.date(2026, 2, 28)
"""

from __future__ import annotations

import calendar
import enum
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.exceptions import EvidenceError
from hub.care_programs import Complexity, DischargeSetting, ProgramKind

__all__ = [
    "ContactAttempt",
    "DeviceReading",
    "Discharge",
    "Month",
    "Provenance",
    "RpmEpisode",
    "TimeEntry",
    "local_day",
    "local_midnight",
    "require_aware",
    "zone",
]


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; :class:`EvidenceError` if there is none of that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise EvidenceError(f"unknown time zone {name!r}") from exc


def require_aware(name: str, value: datetime) -> None:
    """Refuse a naive datetime: billing never guesses a clock."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise EvidenceError(f"{name} must be timezone-aware, got {value.isoformat()}")


def local_day(instant: datetime, time_zone: str) -> date:
    """The patient's calendar day that ``instant`` falls on."""
    require_aware("instant", instant)
    return instant.astimezone(zone(time_zone)).date()


def local_midnight(day: date, time_zone: str) -> datetime:
    """The instant the patient's ``day`` begins, in UTC.

    In UTC because Python subtracts and compares two datetimes that share a
    tzinfo by their wall clocks: across a daylight-saving change that is an
    hour off.

        >>> local_midnight(date(2026, 3, 9), "America/New_York").isoformat()
        '2026-03-09T04:00:00+00:00'
    """
    return datetime(day.year, day.month, day.day, tzinfo=zone(time_zone)).astimezone(UTC)


class Provenance(enum.StrEnum):
    """Where a value came from.

    ``sensed`` and ``self-reported`` are Open mHealth's
    ``acquisition_provenance.modality`` (:class:`hub.domain.Modality`);
    ``device-metadata`` is a device's report about itself (battery, signal,
    clock), not a physiologic value. Only ``sensed`` counts for a device day.
    """

    SENSED = "sensed"
    SELF_REPORTED = "self-reported"
    DEVICE_METADATA = "device-metadata"


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One value from a device: when it was measured, by which serial, and how."""

    measured_at: datetime
    device_serial: str
    provenance: Provenance = Provenance.SENSED

    def __post_init__(self) -> None:
        require_aware("measured_at", self.measured_at)


@dataclass(frozen=True, slots=True)
class RpmEpisode:
    """One remote physiologic monitoring episode.

    ``start`` is its first day in the patient's zone ``time_zone``;
    ``device_serials`` are all the devices ever registered to it. A replaced
    device's successor joins the same episode: the 30-day periods keep
    counting from ``start`` and the one set-up (99453) is not earned again.
    """

    start: date
    time_zone: str
    device_serials: frozenset[str]

    def __post_init__(self) -> None:
        zone(self.time_zone)
        object.__setattr__(self, "device_serials", frozenset(self.device_serials))


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month (the patient's)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise EvidenceError(f"no such month {self.year}-{self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Time a coordinator (``author``) spent on one patient for one timed programme
    (:attr:`~hub.care_programs.ProgramKind.timed`: RPM or CCM; minutes never mix across them).

    The time is ``minutes``, or runs from ``started_at`` to ``ended_at`` and
    counts in whole minutes (never rounded up). The entry belongs to the
    patient's month of ``started_at``. ``interactive`` marks a real-time
    exchange with the patient or caregiver. Entries are append-only: a
    correction is a new entry whose ``supersedes`` names the one it replaces,
    and ``minutes=0`` withdraws it.

        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
        >>> TimeEntry("e1", ProgramKind.RPM, "nurse-1", t, False,
        ...           ended_at=t + timedelta(minutes=12, seconds=59)).spent_minutes
        12
    """

    entry_id: str
    program: ProgramKind
    author: str
    started_at: datetime
    interactive: bool
    minutes: int | None = None
    ended_at: datetime | None = None
    supersedes: str | None = None

    def __post_init__(self) -> None:
        require_aware("started_at", self.started_at)
        if not self.program.timed:
            raise EvidenceError(f"entry {self.entry_id}: {self.program} time is not counted")
        if (self.minutes is None) == (self.ended_at is None):
            raise EvidenceError(f"entry {self.entry_id}: give exactly one of minutes and ended_at")
        if self.minutes is not None and self.minutes < 0:
            raise EvidenceError(f"entry {self.entry_id}: negative minutes")
        if self.ended_at is not None:
            require_aware("ended_at", self.ended_at)
            if self.ended_at < self.started_at:
                raise EvidenceError(f"entry {self.entry_id}: ends before it starts")
        if self.supersedes == self.entry_id:
            raise EvidenceError(f"entry {self.entry_id} supersedes itself")

    @property
    def spent_minutes(self) -> int:
        if self.minutes is not None:
            return self.minutes
        assert self.ended_at is not None
        return (self.ended_at - self.started_at) // timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Discharge:
    """A discharge that may start transitional care: its local day, setting and complexity."""

    discharged_on: date
    setting: DischargeSetting
    complexity: Complexity
    time_zone: str

    def __post_init__(self) -> None:
        zone(self.time_zone)


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    """An attempt at the interactive contact after a discharge; ``reached`` if it was two-way."""

    at: datetime
    reached: bool

    def __post_init__(self) -> None:
        require_aware("at", self.at)
