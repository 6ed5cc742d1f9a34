"""A patient's care progress now: the transitional-care clock and the open period and month.

What the patient page shows beside the programmes (``GET
/api/v1/patients/{id}/care-progress``): for an open TCM episode, each clock
with its deadline and whether it was met (in time or late) or how long is
left; for each open RPM episode, its 30-day period's device days against
the 16 of 99454 ("days 12 of 16"), and for RPM and CCM the month's minutes
against the next code ("minutes 14 of 20") and whether the month holds its
interactive communication. The figures are the rules engine's
(:mod:`billing.forecast`, :mod:`billing.tcm`) over the stored evidence, the
same the daily forecast (:mod:`flows.forecasts`) and the worklist read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from billing.forecast import MonthForecast, PeriodForecast
from flows.forecasts import device_days_at_risk, forecasts_of, time_at_risk
from flows.tcm_clocks import Clock, episode_clocks
from hub.care_programs import ProgramKind
from hub.db import Conn
from programs.episodes import list_episodes


@dataclass(frozen=True, slots=True)
class ClockState:
    """One transitional-care deadline now."""

    name: str
    due: date
    due_at: datetime
    #: The TCM code a visit by then bills (None for the contact).
    code: str | None
    #: When it was met (a contact's instant, a visit's day), or None.
    met: datetime | date | None
    #: met, met_late, attempted (the contact: tried in time as often as the rules
    #: accept instead), open, due_today or overdue.
    status: str
    #: Hours left; negative once it has passed.
    left_hours: float
    note: str
    #: The contact's unsuccessful attempts made in time.
    attempts: int = 0

    @classmethod
    def of(cls, clock: Clock, *, now: datetime, today: date) -> ClockState:
        if clock.met is not None:
            status = "met_late" if clock.met_late else "met"
        elif clock.attempted:
            status = "attempted"
        elif now >= clock.due_at:
            status = "overdue"
        else:
            status = "due_today" if clock.due <= today else "open"
        return cls(
            clock.name,
            clock.due,
            clock.due_at,
            clock.code,
            clock.met,
            status,
            round((clock.due_at - now) / timedelta(hours=1), 2),
            clock.note,
            len(clock.attempts),
        )


@dataclass(frozen=True, slots=True)
class TcmProgress:
    program_id: int
    discharged_on: date
    complexity: str | None
    #: The last day of the 30-day service period; the clocks run until then.
    period_ends: date
    clocks: tuple[ClockState, ...]


@dataclass(frozen=True, slots=True)
class PeriodProgress:
    """The RPM episode's open 30-day period: days with sensed data against 99454's."""

    first_day: date
    last_day: date
    days: int
    target_days: int
    target_code: str
    days_left: int
    text: str
    #: The daily forecast's rule: reachable only on most of the days left.
    at_risk: bool

    @classmethod
    def of(cls, f: PeriodForecast) -> PeriodProgress:
        top = f.tiers[0]
        return cls(
            f.period.first_day,
            f.period.last_day,
            f.period.count,
            top.min_days,
            top.code,
            f.days_left,
            f.text,
            device_days_at_risk(f),
        )


@dataclass(frozen=True, slots=True)
class MonthProgress:
    """A programme's month: its minutes against the next code."""

    month: str
    minutes: int
    #: The minutes at which the next code is earned, and that code (None: all earned).
    next_at: int | None
    next_code: str | None
    #: The month holds the interactive communication a billed month needs.
    interactive: bool
    codes: tuple[str, ...]
    text: str
    at_risk: bool

    @classmethod
    def of(cls, f: MonthForecast, today: date) -> MonthProgress:
        return cls(
            str(f.month),
            f.minutes,
            None if f.minutes_to_next is None else f.minutes + f.minutes_to_next,
            f.next_code,
            not f.interactive_missing,
            tuple(str(line) for line in f.lines),
            f.text,
            time_at_risk(f, today),
        )


@dataclass(frozen=True, slots=True)
class ProgramProgress:
    program_id: int
    kind: ProgramKind
    period: PeriodProgress | None
    month: MonthProgress | None


@dataclass(frozen=True, slots=True)
class CareProgress:
    generated_at: datetime
    tcm: tuple[TcmProgress, ...]
    programs: tuple[ProgramProgress, ...]


def care_progress(conn: Conn, *, patient_id: UUID, now: datetime) -> CareProgress:
    """The patient's open episodes' progress at ``now``."""
    episodes = [e for e in list_episodes(conn, patient_id=patient_id) if e.is_open]
    tcm: list[TcmProgress] = []
    for episode in episodes:
        clocks = episode_clocks(episode)
        if clocks is None or episode.tcm is None:
            continue
        today = episode.local_date(now)
        tcm.append(
            TcmProgress(
                episode.id,
                episode.tcm.discharged_on,
                episode.tcm.complexity,
                clocks.period_ends,
                tuple(ClockState.of(c, now=now, today=today) for c in clocks.clocks),
            )
        )
    forecasts = forecasts_of(conn, patient_id=patient_id, now=now)
    programs: list[ProgramProgress] = []
    for episode in episodes:
        if episode.id not in forecasts:
            continue
        period, month = forecasts[episode.id]
        today = episode.local_date(now)
        programs.append(
            ProgramProgress(
                episode.id,
                episode.kind,
                PeriodProgress.of(period) if period else None,
                MonthProgress.of(month, today) if month else None,
            )
        )
    return CareProgress(now, tuple(tcm), tuple(programs))
