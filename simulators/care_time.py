"""Simulated nurses' time: what they log toward a patient's RPM or CCM episode, month by month.

A month's work follows its :class:`~simulators.care_models.Pace`: data
reviews of a few minutes, phone calls of 5-20 minutes (live ones marked
interactive, unanswered ones not), care-plan updates and, for CCM,
medication reconciliations. Each piece is placed on a weekday of the month
(within the episode, from its consent on, never after ``now``) in working
hours, by the patient's nurse or, now and then, the other one covering.

Every draw comes from a :class:`random.Random` seeded by the caller, so the
entries are a function of the cohort's seed, the patient and ``now``.

    >>> import random
    >>> from datetime import UTC, date, datetime
    >>> now = datetime(2026, 3, 20, 17, tzinfo=UTC)
    >>> entries = episode_entries(ProgramKind.RPM, date(2026, 2, 25), now=now, pace=Pace.ON_TRACK,
    ...                           nurse=0, rng=random.Random(1))
    >>> march = [e for e in entries if e.started_at.month == 3]
    >>> sum(e.minutes for e in march) >= 20 and any(e.work.interactive for e in march)
    True
    >>> all(e.started_at + timedelta(minutes=e.minutes) <= now for e in entries)
    True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from hub.care_programs import ProgramKind
from programs.models import Activity, Work
from simulators.care_models import NURSES, Pace, PlannedEntry

#: How a past month's pace is drawn (the current month's is the patient's).
PACE_WEIGHTS = {Pace.ON_TRACK: 0.55, Pace.SHORT: 0.30, Pace.BEHIND: 0.15}
#: The share of entries logged by the nurse covering for the patient's own.
COVER_RATE = 0.15
_WORKDAY = (time(8, 0), 9 * 60)  # starts between 08:00 and 17:00 UTC
_MARGIN = timedelta(minutes=1)

_REVIEW = Work(Activity.DATA_REVIEW, interactive=False, note="Reviewed the readings and trends")
_CALL = Work(
    Activity.CALL,
    interactive=True,
    note="Phone call with the patient: readings, symptoms, medicines",
)
_NO_ANSWER = Work(Activity.CALL, interactive=False, note="Called; no answer, left a message")
_PLAN = Work(Activity.CARE_PLAN_UPDATE, interactive=False, note="Updated the care plan")
_MEDS = Work(
    Activity.MEDICATION_RECONCILIATION, interactive=False, note="Reconciled the medication list"
)

Piece = tuple[int, Work]


def draw_pace(rng: random.Random) -> Pace:
    return rng.choices(tuple(PACE_WEIGHTS), tuple(PACE_WEIGHTS.values()))[0]


def month_work(kind: ProgramKind, pace: Pace, rng: random.Random) -> list[Piece]:
    """A month's pieces of work (minutes, what) toward an RPM or CCM episode at ``pace``.

    >>> work = month_work(ProgramKind.RPM, Pace.SHORT, random.Random(3))
    >>> sum(m for m, _ in work) < 20 or not any(w.interactive for _, w in work)
    True
    """
    pieces: list[Piece] = []
    if pace is Pace.BEHIND:
        if kind is ProgramKind.CCM:
            return [(rng.randint(4, 8), _PLAN)]
        return [(rng.randint(2, 4), _REVIEW) for _ in range(rng.randint(1, 2))]
    if pace is Pace.ON_TRACK:
        pieces += [(rng.randint(8, 20), _CALL) for _ in range(1 if rng.random() < 0.7 else 2)]
        if kind is ProgramKind.CCM:
            pieces.append((rng.randint(10, 20), _PLAN))
            if rng.random() < 0.5:
                pieces.append((rng.randint(5, 12), _MEDS))
        elif rng.random() < 0.3:
            pieces.append((rng.randint(5, 8), _PLAN))
        target = rng.randint(22, 45)
    elif rng.random() < 0.6:  # short of 20 minutes, with the live call
        pieces.append((rng.randint(5, 9), _CALL))
        if kind is ProgramKind.CCM:
            pieces.append((rng.randint(4, 6), _PLAN))
        target = rng.randint(12, 18)
    else:  # the minutes are there, the live call is not
        pieces.append((rng.randint(2, 3), _NO_ANSWER))
        target = rng.randint(20, 28)
    total = sum(m for m, _ in pieces)
    while total < target:
        minutes = min(rng.randint(2, 6), target - total)
        pieces.append((minutes, _REVIEW))
        total += minutes
    return pieces


def place(
    kind: ProgramKind,
    pieces: Sequence[Piece],
    days: Sequence[date],
    *,
    now: datetime,
    nurse: int,
    rng: random.Random,
) -> list[PlannedEntry]:
    """Each piece on one of ``days`` (a weekday if any) in working hours, ending by ``now``.

    A piece that fits nowhere (the month began this morning) is left out.
    """
    placed: list[PlannedEntry] = []
    weekdays = [d for d in days if d.weekday() < 5] or list(days)
    for minutes, work in pieces:
        start = _slot(weekdays, minutes, now=now, rng=rng)
        if start is None:
            continue
        who = (nurse + 1) % NURSES if rng.random() < COVER_RATE else nurse
        placed.append(PlannedEntry(kind, start, minutes, work, who))
    return sorted(placed, key=lambda e: e.started_at)


def _slot(
    days: Sequence[date], minutes: int, *, now: datetime, rng: random.Random
) -> datetime | None:
    if not days:
        return None
    length = timedelta(minutes=minutes)
    opens, span = _WORKDAY
    for _ in range(12):
        day = rng.choice(days)
        start = datetime.combine(day, opens, tzinfo=UTC) + timedelta(minutes=rng.randint(0, span))
        if start + length <= now - _MARGIN:
            return start
    # Only today is left, and its working hours have not come: any minute before now.
    first = datetime.combine(min(days), time(), tzinfo=UTC)
    latest = (now - _MARGIN - length).replace(second=0, microsecond=0)
    if latest < first:
        return None
    return first + timedelta(minutes=rng.randint(0, int((latest - first) / timedelta(minutes=1))))


def episode_entries(
    kind: ProgramKind,
    first_day: date,
    *,
    now: datetime,
    pace: Pace,
    nurse: int,
    rng: random.Random,
) -> tuple[PlannedEntry, ...]:
    """An RPM or CCM episode's entries from ``first_day`` (its consent) to ``now``.

    The current month goes at ``pace``; each earlier month at a pace drawn
    from :data:`PACE_WEIGHTS`, one step slower when the episode covers less
    than half of it.
    """
    today = now.date()
    entries: list[PlannedEntry] = []
    month = first_day.replace(day=1)
    while month <= today:
        following = (month + timedelta(days=32)).replace(day=1)
        days = [
            month + timedelta(days=i)
            for i in range((following - month).days)
            if first_day <= month + timedelta(days=i) <= today
        ]
        if following > today:
            month_pace = pace
        else:
            month_pace = draw_pace(rng)
            if len(days) * 2 < (following - month).days:
                month_pace = _slower(month_pace)
        work = month_work(kind, month_pace, rng)
        entries += place(kind, work, days, now=now, nurse=nurse, rng=rng)
        month = following
    return tuple(entries)


def _slower(pace: Pace) -> Pace:
    return Pace.SHORT if pace is Pace.ON_TRACK else Pace.BEHIND


def contact_call(at: datetime, rng: random.Random, *, nurse: int) -> PlannedEntry:
    """The live call after a discharge (TCM's interactive contact)."""
    work = Work(
        Activity.CALL,
        interactive=True,
        note="Called after the discharge: symptoms, medicines, the follow-up visit",
    )
    return PlannedEntry(ProgramKind.TCM, at, rng.randint(10, 20), work, nurse)


def unanswered_call(at: datetime, *, nurse: int) -> PlannedEntry:
    return PlannedEntry(ProgramKind.TCM, at, 2, _NO_ANSWER, nurse)


def reconciliation(at: datetime, rng: random.Random, *, nurse: int) -> PlannedEntry:
    return PlannedEntry(ProgramKind.TCM, at, rng.randint(10, 20), _MEDS, nurse)
