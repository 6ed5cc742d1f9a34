"""Time codes: a calendar month's minutes per programme, and the codes they earn.

The month is the *patient's* calendar month: an entry belongs to the month,
in the patient's IANA zone, in which it started. That is the clock device
days are counted on, and the one zone the engine always knows (the practice's
is not modelled); the two differ only for an entry started within a few hours
of midnight at a month's end.

Per programme and month (rules ``[time.<programme>]``): minutes of other
programmes never count; nothing is earned unless the month holds at least one
interactive communication of that programme (where the rules require it);
then the first code with the most minutes the month reaches (never two, unless
``combine_first_codes``), and one add-on unit per further full block, up to
its cap. In 2026, RPM: 10-19 minutes 99470; 20 or more 99457, plus 99458 for
each further full 20 (at most 2). CCM: 20 or more 99490, plus 99439 for each
further full 20 (at most 2).

Entries are append-only: a correction supersedes an earlier entry by id, and
the superseded entry no longer counts (:func:`effective_entries`).

    >>> from datetime import date
    >>> from billing.rules import rules_for
    >>> rpm = rules_for(date(2026, 3, 1)).program(ProgramKind.RPM)
    >>> for minutes in (9, 10, 19, 20, 39, 40, 60, 100):
    ...     print(minutes, [str(line) for line in codes_for_minutes(minutes, rpm)])
    9 []
    10 ['99470']
    19 ['99470']
    20 ['99457']
    39 ['99457']
    40 ['99457', '99458']
    60 ['99457', '99458x2']
    100 ['99457', '99458x2']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from billing.exceptions import EvidenceError
from billing.models import Month, TimeEntry, local_day
from billing.rules import Rules, in_force
from billing.rules.schema import TimeProgram
from hub.care_programs import ProgramKind

__all__ = [
    "ClaimLine",
    "MonthTime",
    "Step",
    "codes_for_minutes",
    "effective_entries",
    "ladder",
    "month_time",
    "next_step",
]


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """A code and its units on a month's claim."""

    code: str
    units: int = 1

    def __str__(self) -> str:
        return self.code if self.units == 1 else f"{self.code}x{self.units}"


@dataclass(frozen=True, slots=True)
class Step:
    """From ``min_minutes`` on (until the next step), a month earns ``lines``."""

    min_minutes: int
    lines: tuple[ClaimLine, ...]


@functools.lru_cache(maxsize=64)
def ladder(program: TimeProgram) -> tuple[Step, ...]:
    """Every number of minutes at which a month's codes change, in ascending order.

    Computed once per programme's rules (a month-end export asks it for every patient).

    >>> from datetime import date
    >>> from billing.rules import rules_for
    >>> [s.min_minutes for s in ladder(rules_for(date(2026, 1, 1)).program(ProgramKind.RPM))]
    [10, 20, 40, 60]
    """
    steps: list[Step] = []
    firsts = program.firsts_by_minutes
    extra = program.additional
    for first in firsts:
        steps.append(Step(first.min_minutes, (ClaimLine(first.code),)))
        if extra is not None and extra.after == first.code:
            steps.extend(
                Step(
                    first.min_minutes + units * extra.each_minutes,
                    (ClaimLine(first.code), ClaimLine(extra.code, units)),
                )
                for units in range(1, extra.max_units + 1)
            )
    if program.combine_first_codes:
        short = firsts[-1]
        steps.extend(
            Step(s.min_minutes + short.min_minutes, (*s.lines, ClaimLine(short.code)))
            for s in list(steps)
            if s.lines[0].code != short.code
        )
    return tuple(sorted(steps, key=lambda s: s.min_minutes))


def codes_for_minutes(minutes: int, program: TimeProgram) -> tuple[ClaimLine, ...]:
    """What ``minutes`` in a month earn, the interactive condition aside."""
    reached = [s for s in ladder(program) if s.min_minutes <= minutes]
    return reached[-1].lines if reached else ()


def next_step(minutes: int, program: TimeProgram) -> Step | None:
    """The next change of codes above ``minutes``; None once the caps are reached."""
    return next((s for s in ladder(program) if s.min_minutes > minutes), None)


def effective_entries(entries: Iterable[TimeEntry]) -> tuple[TimeEntry, ...]:
    """The entries that still count: those no other entry supersedes.

    Refuses (:class:`EvidenceError`) two entries with one id, two corrections
    of one entry, and corrections that supersede each other in a circle. A
    correction of an entry not given is kept (its original may lie outside
    the entries asked about).
    """
    given = tuple(entries)
    by_id: dict[str, TimeEntry] = {}
    replaced_by: dict[str, str] = {}
    for e in given:
        if e.entry_id in by_id:
            raise EvidenceError(f"two time entries have the id {e.entry_id!r}")
        by_id[e.entry_id] = e
        if e.supersedes is not None:
            if e.supersedes in replaced_by:
                raise EvidenceError(
                    f"entries {replaced_by[e.supersedes]!r} and {e.entry_id!r} "
                    f"both supersede {e.supersedes!r}"
                )
            replaced_by[e.supersedes] = e.entry_id
    for e in given:
        seen = {e.entry_id}
        link = e.supersedes
        while link is not None and link in by_id:
            if link in seen:
                raise EvidenceError(f"time entries supersede each other in a circle at {link!r}")
            seen.add(link)
            link = by_id[link].supersedes
    return tuple(e for e in given if e.entry_id not in replaced_by)


@dataclass(frozen=True, slots=True)
class MonthTime:
    """One programme's month: the minutes counted, the entries counted, the codes earned."""

    program: ProgramKind
    month: Month
    minutes: int
    interactive: bool
    entry_ids: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    rules_id: str

    @property
    def codes(self) -> tuple[str, ...]:
        """Each code once per unit, as claim lines are often listed."""
        return tuple(line.code for line in self.lines for _ in range(line.units))


def month_time(
    entries: Iterable[TimeEntry],
    *,
    program: ProgramKind,
    month: Month,
    time_zone: str,
    rules: Rules | None = None,
) -> MonthTime:
    """Count one programme's month for one patient (``time_zone`` is the patient's).

    Without ``rules``, those in force on the month's first day.
    """
    rules = in_force(month.first_day, rules)
    terms = rules.program(program)
    counted = [
        e
        for e in effective_entries(entries)
        if e.program is program and local_day(e.started_at, time_zone) in month
    ]
    minutes = sum(e.spent_minutes for e in counted)
    interactive = any(e.interactive for e in counted)
    billable = interactive or not terms.requires_interactive_contact
    return MonthTime(
        program=program,
        month=month,
        minutes=minutes,
        interactive=interactive,
        entry_ids=tuple(e.entry_id for e in counted),
        lines=codes_for_minutes(minutes, terms) if billable else (),
        rules_id=rules.meta.id,
    )
