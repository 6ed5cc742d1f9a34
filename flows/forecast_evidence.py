"""What the daily forecast counts (:mod:`flows.forecasts`), read in bulk.

- The days with sensed data (:class:`SensedDays`): one query for every
  patient with an open RPM episode (or those asked about), which reads the
  window's readings once and folds them, as it reads, into one row per
  patient whose days are the bits of one number: 100,000 patients' are a few
  megabytes, however many readings.
- The open RPM and CCM episodes (:func:`open_episodes_of`): what the forecast
  reads of them, one query per batch of patients.
- The time entries (:func:`time_entries`): one query per batch of patients,
  and only when a month is judged.

The window is the :data:`LOOKBACK` before ``now`` (a 30-day period and a day
of time zones) up to a day after the end of every patient's today: a reading
measured later is on a day after today, and the forecast counts no such day
(:func:`billing.forecast.period_forecast_of_days`).
Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from billing.models import TimeEntry, zone
from hub.care_programs import ProgramKind
from hub.db import Conn
from hub.sql import queries

__all__ = ["LOOKBACK", "OpenEpisode", "SensedDays", "open_episodes_of", "time_entries"]

#: How far back readings and time entries are read: a period or a month, and a day of
#: time zones.
LOOKBACK = timedelta(days=32)
#: How far past ``now`` readings are read: every zone's today has ended by then.
_AHEAD = timedelta(days=2)
#: Days per number of the query's bits (a bigint, its sign bit unused).
_BITS = 62


def _scope(patient_ids: Collection[UUID] | None) -> dict[str, object]:
    return {"all": patient_ids is None, "patient_ids": list(patient_ids or ())}


@functools.lru_cache(maxsize=4)
def _byte_days(first: date) -> list[list[tuple[date, ...]]]:
    """For each byte of a number (bits 8n to 8n + 7) and each of its values, its days."""
    dates = [first + timedelta(days=k) for k in range(64)]
    return [
        [tuple(dates[8 * n + k] for k in range(8) if value >> k & 1) for value in range(256)]
        for n in range(8)
    ]


class SensedDays:
    """The local days with sensed data of the patients with an open RPM episode.

    Bit ``k`` of a patient's number is the local day ``first + k``: ``first``
    is a day before the window's first instant, and the window's last instant
    is a day before ``first + 62`` in every zone.

        >>> from datetime import UTC
        >>> days = SensedDays(datetime(2026, 3, 23, 15, tzinfo=UTC), {})
        >>> days.first, days.decode(0b1011)
        (datetime.date(2026, 2, 18), (datetime.date(2026, 2, 18), datetime.date(2026, 2, 19), \
datetime.date(2026, 2, 21)))
    """

    def __init__(self, now: datetime, words: dict[UUID, int]) -> None:
        self.since, self.until = now - LOOKBACK, now + _AHEAD
        self.first = self.since.date() - timedelta(days=1)
        if (self.until.date() + timedelta(days=1) - self.first).days >= _BITS:
            raise ValueError("the window does not fit the query's bits")
        self._bytes = _byte_days(self.first)
        self._words = words

    @classmethod
    def read(cls, conn: Conn, *, now: datetime, patient_ids: Collection[UUID] | None) -> SensedDays:
        """Every patient's (``patient_ids`` None) or these patients' days: one query."""
        days = cls(now, {})
        params = {**_scope(patient_ids), "first": days.first, "since": days.since}
        rows = conn.execute(queries["forecast_sensed_days"], {**params, "until": days.until})
        days._words = {patient_id: int(word) for patient_id, word in rows}
        return days

    def of(self, patient_id: UUID) -> tuple[date, ...]:
        """The patient's days, in order."""
        return self.decode(self._words.get(patient_id, 0))

    def decode(self, word: int) -> tuple[date, ...]:
        """The days of a number's bits, in order (read a byte at a time)."""
        found: tuple[date, ...] = ()
        for days in self._bytes:
            if not word:
                break
            found += days[word & 0xFF]
            word >>= 8
        return found


@dataclass(frozen=True, slots=True)
class OpenEpisode:
    """What the forecast reads of an open RPM or CCM episode (not the whole
    :class:`programs.models.Episode`: a pass reads 100,000)."""

    id: int
    patient_id: UUID
    kind: ProgramKind
    started_on: date
    #: Consent is recorded (time is logged only after it).
    consented: bool
    #: The patient's IANA time zone.
    timezone: str

    def local_date(self, at: datetime) -> date:
        """The day ``at`` falls on, on the patient's calendar."""
        return at.astimezone(zone(self.timezone)).date()


_KINDS = {k.value: k for k in ProgramKind}


def open_episodes_of(conn: Conn, *, patient_ids: Collection[UUID]) -> list[OpenEpisode]:
    """The open RPM and CCM episodes of ``patient_ids``, by patient."""
    rows = conn.execute(queries["forecast_open_episodes"], {"patient_ids": list(patient_ids)})
    return [
        OpenEpisode(episode_id, patient_id, _KINDS[kind], started_on, consented, timezone)
        for episode_id, patient_id, kind, started_on, consented, timezone in rows.fetchall()
    ]


def time_entries(
    conn: Conn, *, episodes: Iterable[OpenEpisode], now: datetime, patient_ids: Collection[UUID]
) -> dict[int, list[TimeEntry]]:
    """The entries that count toward ``episodes`` (RPM and CCM, of ``patient_ids``), lately."""
    kinds = {e.id: e.kind for e in episodes}
    params = {**_scope(patient_ids), "since": now - LOOKBACK}
    found: dict[int, list[TimeEntry]] = defaultdict(list)
    rows = conn.execute(queries["open_episode_time_entries"], params).fetchall()
    for entry_id, episode_id, author, started_at, seconds, interactive in rows:
        if episode_id not in kinds:
            continue
        found[episode_id].append(
            TimeEntry(
                str(entry_id),
                kinds[episode_id],
                str(author),
                started_at,
                interactive,
                minutes=seconds // 60,
            )
        )
    return found
