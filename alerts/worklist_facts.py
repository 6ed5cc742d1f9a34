"""What the worklist knows of a patient: open alerts, deadlines, notices (the facts it ranks).

Frozen types, made from the rows of ``worklist_panel`` (:mod:`alerts.worklist`) and from
the deadlines its caller adds; the ranking is :mod:`alerts.priority`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

LEVEL = {"critical": 4, "high": 3, "medium": 2, "low": 1}
SEVERITIES = tuple(LEVEL)


def age_text(hours: float) -> str:
    """``40 min``, ``5 h``, ``3 d``."""
    if hours < 1:
        return f"{max(0, int(hours * 60))} min"
    return f"{int(hours)} h" if hours < 48 else f"{int(hours // 24)} d"


def day_text(day: date) -> str:
    """``Fri 6 Mar``."""
    return f"{day:%a} {day.day} {day:%b}"


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An unresolved alert as the worklist sees it."""

    kind: str
    severity: str
    status: str
    reason: str
    opened_at: datetime
    snoozed_until: datetime | None = None

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now

    @property
    def acknowledged(self) -> bool:
        return self.status == "acknowledged"

    @property
    def level(self) -> int:
        """Critical 4 .. low 1; one lower while acknowledged."""
        return LEVEL[self.severity] - (1 if self.acknowledged else 0)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A dated step of the patient's care, open until it is recorded.

    ``due`` is the patient's last day to meet it, ``due_at`` the instant it runs out
    (the patient's midnight after ``due``); ``note`` says what it follows and what is
    still possible after it. The worklist shows it until it is met. ``satisfied``
    says what stands in for it, if anything does (``attempted twice``: CMS counts two
    unsuccessful contact attempts in time as the contact): such a deadline is never
    pressing, and says so instead of how long is left or how late it is.
    """

    name: str
    due: date
    due_at: datetime
    note: str = ""
    satisfied: str = ""

    def left(self, now: datetime) -> timedelta:
        """Time left at ``now``; negative once it has passed."""
        return self.due_at - now

    def pressing(self, today: date) -> bool:
        """Due today or overdue (``today`` is the patient's), and not satisfied."""
        return not self.satisfied and self.due <= today

    def sentence(self, now: datetime, today: date) -> str:
        """What the worklist says of it at ``now``.

        >>> from datetime import UTC
        >>> d = Deadline("Visit", date(2026, 3, 6), datetime(2026, 3, 7, 6, tzinfo=UTC), "7 days")
        >>> d.sentence(datetime(2026, 3, 4, 12, tzinfo=UTC), date(2026, 3, 4))
        'Visit due Fri 6 Mar, 2 d left (7 days)'
        >>> d.sentence(datetime(2026, 3, 6, 22, tzinfo=UTC), date(2026, 3, 6))
        'Visit due today, 8 h left (7 days)'
        >>> d.sentence(datetime(2026, 3, 7, 9, tzinfo=UTC), date(2026, 3, 7))
        'Visit overdue 3 h, was due Fri 6 Mar (7 days)'
        >>> from dataclasses import replace
        >>> tried = replace(d, name="Call", satisfied="attempted twice")
        >>> tried.sentence(datetime(2026, 3, 7, 9, tzinfo=UTC), date(2026, 3, 7))
        'Call attempted twice by Fri 6 Mar (7 days)'
        """
        note = f" ({self.note})" if self.note else ""
        if self.satisfied:
            return f"{self.name} {self.satisfied} by {day_text(self.due)}{note}"
        left = self.left(now) / timedelta(hours=1)
        if left <= 0:
            return f"{self.name} overdue {age_text(-left)}, was due {day_text(self.due)}{note}"
        when = "today" if self.due <= today else day_text(self.due)
        return f"{self.name} due {when}, {age_text(left)} left{note}"


@dataclass(frozen=True, slots=True)
class Notice:
    """A low worklist item that is not an alert, and so never pushes: a billing forecast.

    ``text`` is the sentence the worklist shows ("Device days: needs 6 more days in 8").
    """

    kind: str
    text: str
    since: datetime


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the worklist knows about one patient (one row of ``worklist_panel``)."""

    patient_id: UUID
    pathway: str
    discharge_date: date | None
    discharge_risk: float | None
    lace: int | None
    hospital: int | None
    high_risk: bool
    alerts: tuple[OpenAlert, ...]
    #: The patient's own calendar day now; days since discharge count from it.
    today: date | None = None
    #: Open deadlines of the patient's care (transitional-care clocks), earliest first.
    deadlines: tuple[Deadline, ...] = ()
    #: Low worklist items that are not alerts (billing forecasts).
    notices: tuple[Notice, ...] = ()
