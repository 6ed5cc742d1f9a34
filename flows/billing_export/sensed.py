"""The scope's days with sensed data, read in one pass over the readings.

The month's evidence is read a batch of patients at a time, but the readings
are not: one query (``billing_sensed_days``) reads every reading of the
scope's patients in one window, so that PostgreSQL scans the window's chunks
once instead of probing them patient by patient, and a server-side cursor
hands its rows out in patient order, batch by batch (:meth:`SensedDays.upto`).

The window is the same for every patient: from two periods before the month
(the periods that end in the month begin at most one period before it, and
the set-up needs the period before those) to the month's last day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from billing.models import Month
from flows.billing_export.calendar import rules_of_month, utc_bounds
from flows.billing_export.evidence import Scope
from hub.db import Conn
from hub.sql import queries

__all__ = ["Days", "SensedDays", "window_start"]

#: A patient's days with data, each with the serials of the devices that sent it.
Days = dict[date, tuple[str, ...]]


def window_start(month: Month) -> date:
    """The first local day read: two periods before the month.

    >>> window_start(Month(2026, 3))
    datetime.date(2025, 12, 31)
    """
    return month.first_day - timedelta(days=2 * rules_of_month(month).rpm.period_days)


class SensedDays:
    """The scope's days with sensed data for the month, handed out in patient order."""

    def __init__(self, conn: Conn, *, month: Month, scope: Scope) -> None:
        self.first = window_start(month)
        span = (month.last_day - self.first).days
        self._dates = [self.first + timedelta(days=k) for k in range(span + 1)]
        utc_from, utc_to = utc_bounds(self.first, month.last_day)
        self._cursor = conn.cursor(name="billing_sensed_days")
        self._cursor.itersize = 5000
        self._cursor.execute(
            queries["billing_sensed_days"],
            {
                **scope.params(),
                "first": self.first,
                "span": span,
                "utc_from": utc_from,
                "utc_to": utc_to,
            },
        )
        self._rows: Iterator[tuple[Any, ...]] = iter(self._cursor)
        self._next: tuple[Any, ...] | None = None

    def upto(self, last: UUID) -> dict[UUID, Days]:
        """The days of the patients not handed out yet, up to the id ``last``."""
        found: dict[UUID, dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
        dates = self._dates
        while True:
            row = self._next if self._next is not None else next(self._rows, None)
            self._next = None
            if row is None:
                break
            patient_id, serial, offsets = row
            if patient_id > last:
                self._next = row
                break
            days = found[patient_id]
            for k in offsets:
                days[dates[k]].append(serial)
        return {p: {d: tuple(s) for d, s in days.items()} for p, days in found.items()}

    def close(self) -> None:
        self._cursor.close()
