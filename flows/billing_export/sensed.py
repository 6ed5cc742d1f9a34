"""The scope's days with sensed data, read in one pass over the readings.

The month's evidence is read a batch of patients at a time, but the readings
are not: one query (``billing_sensed_days``) reads every reading of the
scope's patients in one window, so that PostgreSQL scans the window's chunks
once instead of probing them patient by patient (for every patient; a
supervisor's panel is looked up by patient), and folds them as it reads into
one row per patient and device whose days are bits: 100,000 patients' are a
few megabytes. They are decoded a batch at a time, in patient order (:meth:`SensedDays.upto`).

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

#: A patient's days with data, per serial of the device that sent it.
Days = dict[str, frozenset[date]]
#: Days per word of the query's bits, and how many words it gives.
_WORD, _WORDS = 62, 3


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
        if span + 2 >= _WORD * _WORDS:
            raise ValueError(f"a window of {span + 1} days does not fit the query's bits")
        # Bit k is the day first + k - 1; bit 0 and the bits after the window are None.
        self._dates: list[date | None] = [
            self.first + timedelta(days=k - 1) if 1 <= k <= span + 1 else None
            for k in range(_WORD * _WORDS)
        ]
        utc_from, utc_to = utc_bounds(self.first, month.last_day)
        found = conn.execute(
            queries["billing_sensed_days"],
            {
                **scope.params(),
                "first": self.first,
                "utc_from": utc_from,
                "utc_to": utc_to,
            },
        )
        self._rows: Iterator[tuple[Any, ...]] = iter(found.fetchall())
        self._next: tuple[Any, ...] | None = None

    def upto(self, last: UUID) -> dict[UUID, Days]:
        """The days of the patients not handed out yet, up to the id ``last``."""
        found: dict[UUID, Days] = defaultdict(dict)
        while True:
            row = self._next if self._next is not None else next(self._rows, None)
            self._next = None
            if row is None:
                break
            patient_id, serial, words = row
            if patient_id > last:
                self._next = row
                break
            found[patient_id][serial] = frozenset(d for d in self._decode(words) if d)
        return found

    def _decode(self, words: list[int]) -> list[date | None]:
        """The days whose bits are set (read off the words' binary digits, lowest first)."""
        dates = self._dates
        return [
            dates[n * _WORD + k]
            for n, word in enumerate(words)
            if word
            for k, digit in enumerate(reversed(bin(word)[2:]))
            if digit == "1"
        ]
