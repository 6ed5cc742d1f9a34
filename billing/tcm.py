"""Transitional-care clocks: what is due after a discharge, and by when.

The day of discharge is day 0: CMS's TCM FAQ of 17 March 2016 says the 30-day
service period "begins on the day of discharge and continues for the next 29
days" (source ``tcm-faq-2016`` in the rules file). From it run two clocks:

- the interactive contact, due by the end of the second *business* day after
  the day of discharge: Monday to Friday, and not a US federal holiday nor the
  day one is observed on (a Saturday holiday is observed on the Friday before,
  a Sunday one on the Monday after; python-holidays' ``US`` calendar with
  ``observed=True``). It is met by a two-way contact, or by enough separate
  unsuccessful attempts, from the day of discharge to that deadline;
- the face-to-face visit: by day 7 for high complexity (99496), by day 14 for
  moderate (99495). A high-complexity patient seen on days 8 to 14 earns
  99495; a visit after day 14 earns nothing.

Days and deadlines are the patient's (the discharge's zone); a deadline runs
out at the patient's midnight at the end of its day.

    >>> from hub.care_programs import Complexity, DischargeSetting
    >>> d = Discharge(date(2026, 1, 16), DischargeSetting.INPATIENT,
    ...               Complexity.HIGH, "America/Chicago")  # a Friday; Monday is MLK Day
    >>> contact_clock(d).due
    datetime.date(2026, 1, 21)
    >>> [(c.code, c.due.isoformat()) for c in visit_clocks(d)]
    [('99496', '2026-01-23'), ('99495', '2026-01-30')]
    >>> visit_code(d, date(2026, 1, 26))
    '99495'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays

from billing.models import ContactAttempt, Discharge, local_midnight, require_aware
from billing.rules import Rules, in_force

__all__ = [
    "TcmClock",
    "business_days_after",
    "contact_clock",
    "contact_met",
    "contact_missed",
    "is_business_day",
    "qualifies",
    "timely",
    "visit_clocks",
    "visit_code",
    "visit_missed",
]


@dataclass(frozen=True, slots=True)
class TcmClock:
    """One deadline after a discharge.

    ``due`` is the last patient-local day that meets it and ``due_at`` the
    instant it runs out (the patient's next midnight, in UTC). ``code`` is the TCM code
    a visit by then earns, None for the contact clock.
    """

    name: str
    due: date
    due_at: datetime
    code: str | None = None

    def left(self, now: datetime) -> timedelta:
        """Time left at ``now``; negative once the deadline has passed."""
        require_aware("now", now)
        return self.due_at - now.astimezone(UTC)

    def passed(self, now: datetime) -> bool:
        return self.left(now) <= timedelta(0)


@functools.lru_cache(maxsize=32)
def _holidays(country: str, year: int) -> frozenset[date]:
    # Neighbouring years too: New Year's Day on a Saturday is observed on 31 December.
    calendar = holidays.country_holidays(
        country, years=range(year - 1, year + 2), observed=True, expand=False
    )
    return frozenset(calendar)


def is_business_day(day: date, country: str = "US") -> bool:
    """Monday to Friday, and neither a holiday nor the day a holiday is observed on.

    >>> is_business_day(date(2026, 7, 3))  # Friday: Independence Day (Saturday) observed
    False
    """
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def business_days_after(day: date, count: int, country: str = "US") -> date:
    """The ``count``-th business day after ``day`` (``day`` itself never counts).

    >>> business_days_after(date(2026, 7, 2), 2)  # Thursday; Friday is observed
    datetime.date(2026, 7, 7)
    """
    found = 0
    while found < count:
        day += timedelta(days=1)
        found += is_business_day(day, country)
    return day


def qualifies(discharge: Discharge, rules: Rules | None = None) -> bool:
    """Whether the discharge's setting can start transitional care at all."""
    return discharge.setting in _rules(discharge, rules).tcm.qualifying_settings


def contact_clock(discharge: Discharge, rules: Rules | None = None) -> TcmClock:
    """The interactive-contact deadline."""
    tcm = _rules(discharge, rules).tcm
    due = business_days_after(
        discharge.discharged_on, tcm.contact_business_days, tcm.holiday_country
    )
    return TcmClock("interactive contact", due, _end_of(due, discharge))


def visit_clocks(discharge: Discharge, rules: Rules | None = None) -> tuple[TcmClock, ...]:
    """The face-to-face deadlines open to this discharge's complexity, earliest first."""
    codes = [
        c for c in _rules(discharge, rules).tcm.codes if discharge.complexity in c.complexities
    ]
    clocks = []
    for c in sorted(codes, key=lambda c: c.face_to_face_within_days):
        due = discharge.discharged_on + timedelta(days=c.face_to_face_within_days)
        clocks.append(
            TcmClock(f"face-to-face visit for {c.code}", due, _end_of(due, discharge), c.code)
        )
    return tuple(clocks)


def visit_code(discharge: Discharge, visit_on: date, rules: Rules | None = None) -> str | None:
    """The code a face-to-face visit on ``visit_on`` earns, if any.

    The rules' codes are tried in order; the first whose complexities hold the
    discharge's and whose deadline the visit meets wins. A visit before the
    discharge, or after the last deadline, or after a non-qualifying
    discharge, earns nothing.
    """
    terms = _rules(discharge, rules)
    day = (visit_on - discharge.discharged_on).days
    if day < 0 or not qualifies(discharge, terms):
        return None
    for c in terms.tcm.codes:
        if discharge.complexity in c.complexities and day <= c.face_to_face_within_days:
            return c.code
    return None


def timely(
    discharge: Discharge, attempts: Iterable[ContactAttempt], rules: Rules | None = None
) -> list[ContactAttempt]:
    """The attempts made in time: from the start of the day of discharge to the deadline."""
    opens = local_midnight(discharge.discharged_on, discharge.time_zone)
    closes = contact_clock(discharge, rules).due_at
    return [a for a in attempts if opens <= a.at.astimezone(UTC) < closes]


def contact_met(
    discharge: Discharge, attempts: Iterable[ContactAttempt], rules: Rules | None = None
) -> bool:
    """Whether the interactive contact was made in time: reached once, or tried often enough.

    CMS's TCM FAQ (source ``tcm-faq-2016``): two or more separate attempts made
    in time and documented, though unsuccessful, meet it (``unsuccessful_attempts``).
    """
    terms = _rules(discharge, rules)
    in_time = timely(discharge, attempts, terms)
    return any(a.reached for a in in_time) or len(in_time) >= terms.tcm.unsuccessful_attempts


def contact_missed(
    discharge: Discharge,
    attempts: Iterable[ContactAttempt],
    now: datetime,
    rules: Rules | None = None,
) -> bool:
    """Whether the contact deadline has passed at ``now`` without the contact being met.

    Never for a discharge that cannot start transitional care: nothing was lost.
    """
    terms = _rules(discharge, rules)
    if not qualifies(discharge, terms):
        return False
    return contact_clock(discharge, terms).passed(now) and not contact_met(
        discharge, attempts, terms
    )


def visit_missed(
    discharge: Discharge, visit_on: date | None, now: datetime, rules: Rules | None = None
) -> bool:
    """Whether, at ``now``, no face-to-face visit can earn a code any more.

    True when the last visit deadline has passed and the visit (if any) earned
    nothing; never for a discharge that cannot start transitional care.
    """
    terms = _rules(discharge, rules)
    clocks = visit_clocks(discharge, terms)
    if not qualifies(discharge, terms) or not clocks or not clocks[-1].passed(now):
        return False
    return visit_on is None or visit_code(discharge, visit_on, terms) is None


def _rules(discharge: Discharge, rules: Rules | None) -> Rules:
    return in_force(discharge.discharged_on, rules)


def _end_of(day: date, discharge: Discharge) -> datetime:
    return local_midnight(day + timedelta(days=1), discharge.time_zone)
