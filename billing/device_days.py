"""Device days: an RPM episode's 30-day periods and the days with sensed data in each.

Period ``k`` of an episode covers ``start + 30k`` to ``start + 30k + 29``
(``rpm.period_days`` of the rules in force on the episode's first day). A day
is the patient's own calendar day, in the episode's IANA zone. It counts when
at least one reading from a device registered to the episode was measured on
it and transmitted automatically (provenance ``sensed``); values the patient
typed in (``self-reported``) and a device's reports about itself
(``device-metadata``) do not. Several readings or devices on one day count
once. A reading counts on the day it was measured, however late it arrived.

Each period earns at most one device-supply code, the tier holding its count
(16-30 days 99454, 2-15 days 99445 in 2026), from the rules in force on the
period's first day. The set-up (99453) is earned once per episode, in the first
period whose count reaches ``rpm.setup.min_days``.

    >>> from datetime import UTC, datetime
    >>> episode = RpmEpisode(date(2026, 3, 1), "America/New_York", frozenset({"cuff-1"}))
    >>> readings = [DeviceReading(datetime(2026, 3, d, 14, tzinfo=UTC), "cuff-1")
    ...             for d in range(1, 17)]
    >>> first, = device_periods(episode, readings, through=date(2026, 3, 30))
    >>> first.first_day, first.last_day, first.count, first.code, first.setup
    (datetime.date(2026, 3, 1), datetime.date(2026, 3, 30), 16, '99454', True)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from billing.exceptions import EvidenceError
from billing.models import DeviceReading, Provenance, RpmEpisode, local_day
from billing.rules import Rules, in_force

__all__ = [
    "DevicePeriod",
    "device_periods",
    "period_index",
    "period_of_days",
    "period_span",
    "periods_of_days",
    "sensed_days",
]


@dataclass(frozen=True, slots=True)
class DevicePeriod:
    """One 30-day period of an episode and what its days earn.

    ``days`` are the patient-local days with sensed data, in order; ``code``
    the device-supply code they earn (or None); ``setup`` whether the
    episode's set-up code is earned in this period. ``rules_id`` names the
    rules file that decided both.
    """

    index: int
    first_day: date
    last_day: date
    days: tuple[date, ...]
    code: str | None
    setup: bool
    rules_id: str

    @property
    def count(self) -> int:
        return len(self.days)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day


def period_index(start: date, day: date, period_days: int = 30) -> int:
    """Which period of an episode starting on ``start`` holds ``day`` (negative: before it).

    >>> start = date(2026, 1, 15)
    >>> period_index(start, date(2026, 2, 13)), period_index(start, date(2026, 2, 14))
    (0, 1)
    """
    return (day - start).days // period_days


def period_span(start: date, index: int, period_days: int = 30) -> tuple[date, date]:
    """The first and last day of period ``index`` of an episode starting on ``start``.

    >>> period_span(date(2026, 1, 15), 1)
    (datetime.date(2026, 2, 14), datetime.date(2026, 3, 15))
    """
    first = start + timedelta(days=index * period_days)
    return first, first + timedelta(days=period_days - 1)


def sensed_days(episode: RpmEpisode, readings: Iterable[DeviceReading]) -> frozenset[date]:
    """The patient-local days, from the episode's start on, with sensed data from its devices."""
    days = {
        local_day(r.measured_at, episode.time_zone)
        for r in readings
        if r.provenance is Provenance.SENSED and r.device_serial in episode.device_serials
    }
    return frozenset(d for d in days if d >= episode.start)


def device_periods(
    episode: RpmEpisode,
    readings: Iterable[DeviceReading],
    *,
    through: date,
    rules: Rules | None = None,
) -> tuple[DevicePeriod, ...]:
    """The episode's periods up to the one holding ``through``, and what each earns.

    Days after ``through`` are not counted, so the last period may still be
    open. Without ``rules``, each period is counted under the rules in force
    on its first day (the period length under those of the episode's start).
    """
    return periods_of_days(
        episode.start, sensed_days(episode, readings), through=through, rules=rules
    )


def periods_of_days(
    start: date, days: Iterable[date], *, through: date, rules: Rules | None = None
) -> tuple[DevicePeriod, ...]:
    """:func:`device_periods` over days already counted: the patient-local ``days`` with
    sensed data from the episode's devices (for a caller that has them as days, from
    storage). Days before ``start`` or after ``through`` are left out.

    >>> first, = periods_of_days(date(2026, 3, 1), [date(2026, 3, 2), date(2026, 3, 9)],
    ...                          through=date(2026, 3, 30))
    >>> first.count, first.code, first.setup
    (2, '99445', True)
    """
    if through < start:
        return ()
    length = in_force(start, rules).rpm.period_days
    counted = sorted({d for d in days if start <= d <= through})
    indices = range(period_index(start, through, length) + 1)
    return tuple(_count_periods(start, counted, indices, length, rules))


def period_of_days(
    start: date, days: Iterable[date], *, through: date, rules: Rules | None = None
) -> DevicePeriod:
    """The last of :func:`periods_of_days`: the period holding ``through`` (the forecast's).

    The same period, set-up included, for less: the periods before the first
    that holds one of ``days`` are not counted (a period without data earns
    nothing, and no set-up: ``rpm.setup.min_days`` is positive). ``through``
    must not be before ``start``.

    >>> period = period_of_days(date(2025, 1, 1), [date(2026, 3, 2)], through=date(2026, 3, 3))
    >>> period.index, period.first_day, period.count, period.setup
    (14, datetime.date(2026, 2, 25), 1, False)
    """
    if through < start:
        raise EvidenceError(f"{through} is before the episode's start {start}")
    length = in_force(start, rules).rpm.period_days
    counted = sorted({d for d in days if start <= d <= through})
    last = period_index(start, through, length)
    first = period_index(start, counted[0], length) if counted else last
    return _count_periods(start, counted, range(first, last + 1), length, rules)[-1]


def _count_periods(
    start: date, counted: list[date], indices: Iterable[int], length: int, rules: Rules | None
) -> list[DevicePeriod]:
    """The periods ``indices`` (ascending) of ``counted`` (the days in order); the set-up
    is earned in the first whose count reaches it."""
    periods: list[DevicePeriod] = []
    setup_done = False
    for index in indices:
        first, last = period_span(start, index, length)
        terms = in_force(first, rules)
        low, high = bisect.bisect_left(counted, first), bisect.bisect_right(counted, last)
        days_in = tuple(counted[low:high])
        tier = terms.rpm.tier_for(len(days_in))
        setup = not setup_done and len(days_in) >= terms.rpm.setup.min_days
        setup_done = setup_done or setup
        periods.append(
            DevicePeriod(
                index=index,
                first_day=first,
                last_day=last,
                days=days_in,
                code=tier.code if tier else None,
                setup=setup,
                rules_id=terms.meta.id,
            )
        )
    return periods
