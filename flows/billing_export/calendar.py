"""Which periods and discharges a month bills, and the instants that bound a month.

Pure date arithmetic over the rules (``billing.rules``), shared by the
evidence queries (what to read) and the rows (what to count).

An RPM 30-day period is billed in the month it *ends* in, on the patient's
calendar: its last day, or the episode's last day if the episode ended
during it (a period cut short is over when the episode is). So every period
is billed exactly once, and only when no further day can count.

    >>> from billing.models import Month
    >>> [(t.index, t.first_day.isoformat(), t.through.isoformat())
    ...  for t in rpm_targets(date(2026, 1, 15), None, Month(2026, 3))]
    [(1, '2026-02-14', '2026-03-15')]
    >>> [(t.index, str(t.through)) for t in rpm_targets(date(2026, 1, 1), None, Month(2026, 1))]
    [(0, '2026-01-30')]
    >>> [(t.index, str(t.through)) for t in rpm_targets(date(2026, 1, 1), None, Month(2026, 3))]
    [(1, '2026-03-01'), (2, '2026-03-31')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from billing.device_days import period_index, period_span
from billing.exceptions import BillingError
from billing.models import Month
from billing.rules import Rules, rules_for
from flows.billing_export.exceptions import InvalidMonthError

__all__ = [
    "RpmTarget",
    "episode_rules",
    "month_over_at",
    "parse_month",
    "rpm_targets",
    "rules_of_month",
    "tcm_discharge_range",
    "utc_bounds",
]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: Local days run up to 14 hours ahead of UTC (Pacific/Kiritimati) and 12 behind.
_ZONE_SLACK = timedelta(days=1)


def parse_month(text: str) -> Month:
    """``YYYY-MM`` as a :class:`~billing.models.Month`; :class:`InvalidMonthError` otherwise.

    >>> str(parse_month("2026-03"))
    '2026-03'
    """
    found = _MONTH.match(text)
    if found is None:
        raise InvalidMonthError(f"a month is YYYY-MM, not {text!r}")
    try:
        return Month(int(found.group(1)), int(found.group(2)))
    except BillingError as exc:
        raise InvalidMonthError(str(exc)) from exc


def rules_of_month(month: Month) -> Rules:
    """The rules in force on the month's first day; :class:`InvalidMonthError` if none."""
    try:
        return rules_for(month.first_day)
    except BillingError as exc:
        raise InvalidMonthError(f"no billing rules cover {month}: {exc}") from exc


def month_over_at(month: Month) -> datetime:
    """When the month has ended in every time zone (12:00 UTC on the next month's first day).

    >>> month_over_at(Month(2026, 12)).isoformat()
    '2027-01-01T12:00:00+00:00'
    """
    following = month.last_day + timedelta(days=1)
    return datetime.combine(following, time(12), tzinfo=UTC)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Instants that surely hold every zone's local days ``first`` to ``last``."""
    start = datetime.combine(first, time(0), tzinfo=UTC) - _ZONE_SLACK
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC) + _ZONE_SLACK
    return start, end


@dataclass(frozen=True, slots=True)
class RpmTarget:
    """A period of an RPM episode billed in the month: its index and days, counted up to
    ``through`` (its last day, or the episode's if that came first)."""

    index: int
    first_day: date
    last_day: date
    through: date


@functools.lru_cache(maxsize=4096)
def episode_rules(started_on: date, month: Month) -> Rules | None:
    """The rules to count an RPM episode by: None (the engine's choice, those in force on
    each period's first day) when some rules file covers the episode's start; else the
    month's, for every period (an episode begun before the first rules file)."""
    try:
        rules_for(started_on)
    except BillingError:
        return rules_of_month(month)
    return None


@functools.lru_cache(maxsize=4096)
def rpm_targets(started_on: date, ended_on: date | None, month: Month) -> tuple[RpmTarget, ...]:
    """The periods of an episode (``started_on`` to ``ended_on``) that end in ``month``."""
    given = episode_rules(started_on, month)
    length = (given or rules_for(started_on)).rpm.period_days
    lowest = max(0, period_index(started_on, month.first_day, length) - 1)
    highest = period_index(started_on, month.last_day, length)
    targets = []
    for index in range(lowest, highest + 1):
        first, last = period_span(started_on, index, length)
        if ended_on is not None and first > ended_on:
            continue
        through = min(last, ended_on) if ended_on is not None else last
        if through in month:
            targets.append(RpmTarget(index, first, last, through))
    return tuple(targets)


def tcm_discharge_range(month: Month, rules: Rules) -> tuple[date, date]:
    """The discharge days whose transitional-care service period ends in the month.

    The service period is the day of discharge and the next 29 days (rules
    ``tcm.service_period_days``); the service is billed when it is over.

        >>> tcm_discharge_range(Month(2026, 3), rules_for(date(2026, 3, 1)))
        (datetime.date(2026, 1, 31), datetime.date(2026, 3, 2))
    """
    back = timedelta(days=rules.tcm.service_period_days - 1)
    return month.first_day - back, month.last_day - back
