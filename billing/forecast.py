"""The forecast: what an open 30-day period, or an open month, still needs.

Pure functions of the evidence so far and the patient's "today":

- :func:`period_forecast` -- days counted in the period holding today, days
  left (today included while it has no data yet), per device-supply tier
  whether it is still reachable and how many more days it needs, and a short
  text for the worklist ("needs 6 more days in 8 for 99454");
- :func:`month_forecast` -- a programme's minutes so far this month, the
  minutes to its next code, and whether the interactive communication that
  every billed month needs is still missing.

    >>> from datetime import UTC, datetime
    >>> from billing.models import DeviceReading
    >>> episode = RpmEpisode(date(2026, 3, 1), "UTC", frozenset({"scale-1"}))
    >>> readings = [DeviceReading(datetime(2026, 3, d, 7, tzinfo=UTC), "scale-1")
    ...             for d in range(1, 23) if d % 2]  # every other day: 11 days
    >>> period_forecast(episode, readings, today=date(2026, 3, 23)).text
    'needs 5 more days in 8 for 99454 (99445 reached)'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billing.device_days import DevicePeriod, period_of_days, sensed_days
from billing.exceptions import EvidenceError
from billing.models import DeviceReading, Month, RpmEpisode, TimeEntry
from billing.rules import Rules, in_force
from billing.time_codes import ClaimLine, month_time, next_step
from hub.care_programs import ProgramKind

__all__ = [
    "MonthForecast",
    "PeriodForecast",
    "TierOutlook",
    "month_forecast",
    "period_forecast",
    "period_forecast_of_days",
]


@dataclass(frozen=True, slots=True)
class TierOutlook:
    """One device-supply tier seen from today: reached, or how far off."""

    code: str
    min_days: int
    #: More days with data needed (0 once reached).
    needed: int
    #: Reached, or still reachable in the days left.
    reachable: bool

    @property
    def reached(self) -> bool:
        return self.needed == 0


@dataclass(frozen=True, slots=True)
class PeriodForecast:
    """The open period holding ``today`` and its outlook, the tier needing most days first."""

    period: DevicePeriod
    today: date
    days_left: int
    tiers: tuple[TierOutlook, ...]
    text: str

    def tier(self, code: str) -> TierOutlook:
        return next(t for t in self.tiers if t.code == code)


def period_forecast(
    episode: RpmEpisode,
    readings: Iterable[DeviceReading],
    *,
    today: date,
    rules: Rules | None = None,
) -> PeriodForecast:
    """The outlook of the period holding ``today`` (the patient's date).

    Days after ``today`` are not counted (a device clock running ahead is no
    evidence); today counts once it has data, and is still left until then.
    ``today`` must not be before the episode's start.
    """
    days = sensed_days(episode, readings)
    return period_forecast_of_days(episode.start, days, today=today, rules=rules)


def period_forecast_of_days(
    start: date, days: Iterable[date], *, today: date, rules: Rules | None = None
) -> PeriodForecast:
    """:func:`period_forecast` over days already counted: the patient-local ``days`` with
    sensed data from the episode's devices (for a caller that reads them as days, in
    bulk) of an episode begun on ``start``.

    >>> f = period_forecast_of_days(date(2026, 3, 1), [date(2026, 3, 2)], today=date(2026, 3, 3))
    >>> f.days_left, f.text
    (28, 'needs 15 more days in 28 for 99454')
    """
    if today < start:
        raise EvidenceError(f"today {today} is before the episode's start {start}")
    period = period_of_days(start, days, through=today, rules=rules)
    terms = in_force(period.first_day, rules)
    days_left = (period.last_day - today).days + (0 if today in period.days else 1)
    tiers = tuple(
        TierOutlook(
            code=t.code,
            min_days=t.min_days,
            needed=max(0, t.min_days - period.count),
            reachable=period.count + days_left >= t.min_days,
        )
        for t in terms.rpm.tiers_by_days
    )
    return PeriodForecast(period, today, days_left, tiers, _period_text(period, days_left, tiers))


def _period_text(period: DevicePeriod, days_left: int, tiers: tuple[TierOutlook, ...]) -> str:
    reached = next((t for t in tiers if t.reached), None)
    target = next((t for t in tiers if t.reachable and not t.reached), None)
    if reached is tiers[0]:
        return f"{_days(period.count)}: {reached.code} reached"
    if target is not None and (reached is None or target.min_days > reached.min_days):
        text = f"needs {target.needed} more {_plural('day', target.needed)} in {days_left}"
        text += f" for {target.code}"
        return text + (f" ({reached.code} reached)" if reached else "")
    if reached is not None:
        return f"{_days(period.count)}: {reached.code} reached; {tiers[0].code} out of reach"
    return f"{_days(period.count)}: no device code can be reached this period"


@dataclass(frozen=True, slots=True)
class MonthForecast:
    """A programme's month so far: minutes, codes, and what the next code needs."""

    program: ProgramKind
    month: Month
    minutes: int
    lines: tuple[ClaimLine, ...]
    #: The code the next threshold adds, and the minutes still needed for it
    #: (None once the caps are reached).
    next_code: str | None
    minutes_to_next: int | None
    #: The month holds no interactive communication yet, and the rules need one.
    interactive_missing: bool
    text: str


def month_forecast(
    entries: Iterable[TimeEntry],
    *,
    program: ProgramKind,
    today: date,
    time_zone: str,
    rules: Rules | None = None,
) -> MonthForecast:
    """The outlook of ``program`` for the month holding ``today`` (the patient's date).

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 4, 3, 15, tzinfo=UTC)
    >>> entries = [TimeEntry("e1", ProgramKind.RPM, "rn-2", at, False, minutes=14)]
    >>> april = date(2026, 4, 20)
    >>> month_forecast(entries, program=ProgramKind.RPM, today=april, time_zone="UTC").text
    '14 min, no interactive contact yet (nothing billable without one); 6 more for 99457'
    """
    month = Month.of(today)
    rules = in_force(month.first_day, rules)
    terms = rules.program(program)
    counted = month_time(entries, program=program, month=month, time_zone=time_zone, rules=rules)
    step = next_step(counted.minutes, terms)
    missing = terms.requires_interactive_contact and not counted.interactive
    next_code = step.lines[-1].code if step else None
    to_next = step.min_minutes - counted.minutes if step else None
    text = f"{counted.minutes} min"
    if missing:
        text += ", no interactive contact yet (nothing billable without one)"
    elif counted.lines:
        text += ": " + " + ".join(str(line) for line in counted.lines)
    text += f"; {to_next} more for {next_code}" if step else "; the most this month can bill"
    return MonthForecast(
        program=program,
        month=month,
        minutes=counted.minutes,
        lines=counted.lines,
        next_code=next_code,
        minutes_to_next=to_next,
        interactive_missing=missing,
        text=text,
    )


def _days(count: int) -> str:
    return f"{count} {_plural('day', count)}"


def _plural(word: str, count: int) -> str:
    return word if count == 1 else f"{word}s"
