"""The coordinator's time log: entries toward one episode each, append-only, corrected by new rows.

Repository functions: keyword-only, take the connection, never commit.

* An entry is given as minutes (when the work began: as said, or else the
  minutes before it is recorded) or as a start and an end; it is kept in
  whole seconds, up to a day.
* It counts toward exactly one episode of the patient, on a day within the
  episode's dates on the patient's calendar, not in the future; RPM and CCM
  time needs the patient's consent, dated on or before that day
  (:class:`ConsentRequiredError`; see the package).
* Nothing is updated or deleted (migration 0023 refuses it): a correction is
  a new entry that supersedes one, with who, when and why; a correction to
  0 minutes withdraws it. Only the latest version of an entry is corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from hub.care_programs import ProgramKind
from hub.db import Conn
from hub.exceptions import NotFoundError
from hub.sql import queries
from programs.episodes import choose_episode, get_episode
from programs.exceptions import (
    AlreadySupersededError,
    ConsentRequiredError,
    InvalidTimeEntryError,
)
from programs.facts import CLOCK_SKEW
from programs.models import Activity, EntrySource, Episode, TimeEntry, Work
from programs.records import insert_once

#: The longest entry: a day.
MAX_SECONDS = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class Span:
    """When the work began, when it ended (if given so), and how long it took."""

    started_at: datetime
    ended_at: datetime | None
    seconds: int


def span_of(
    *,
    now: datetime,
    minutes: int | None = None,
    at: datetime | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Span:
    """The span of an entry given as ``minutes`` (begun ``at``) or as a start and an end.

    >>> from datetime import UTC
    >>> now = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    >>> span_of(now=now, minutes=12).started_at.time()
    datetime.time(14, 48)
    >>> span_of(now=now, started_at=now - timedelta(seconds=90), ended_at=now).seconds
    90
    """
    if minutes is not None:
        if started_at is not None or ended_at is not None:
            raise InvalidTimeEntryError("give minutes, or a start and an end; not both")
        return Span(at or now - timedelta(minutes=minutes), None, minutes * 60)
    if at is not None or started_at is None or ended_at is None:
        raise InvalidTimeEntryError("give minutes (and when), or a start and an end")
    if ended_at <= started_at:
        raise InvalidTimeEntryError("the end is not after the start")
    return Span(started_at, ended_at, int((ended_at - started_at).total_seconds()))


def _entry(row: Mapping[str, Any]) -> TimeEntry:
    return TimeEntry(
        id=row["id"],
        episode_id=row["episode_id"],
        kind=ProgramKind(row["kind"]),
        patient_id=row["patient_id"],
        coordinator_id=row["coordinator_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        seconds=row["seconds"],
        work=Work(
            activity=Activity(row["activity"]), interactive=row["interactive"], note=row["note"]
        ),
        alert_id=row["alert_id"],
        source=EntrySource(row["source"]),
        supersedes=row["supersedes"],
        reason=row["reason"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        superseded_by=row["superseded_by"],
    )


def get_entry(conn: Conn, *, patient_id: UUID, entry_id: int) -> TimeEntry:
    """The patient's entry; :class:`NotFoundError` if it is not the patient's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["time_entry"], {"id": entry_id, "patient_id": patient_id})
        found = row.fetchone()
    if found is None:
        raise NotFoundError(f"time entry {entry_id}")
    return _entry(found)


def list_entries(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 5000,
) -> list[TimeEntry]:
    """The patient's entries begun in ``[since, until)``, oldest first, corrected ones too."""
    params = {
        "patient_id": patient_id,
        "episode_id": episode_id,
        "since": since,
        "until": until,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return [_entry(r) for r in cur.execute(queries["time_entries_of_patient"], params)]


def check_alert(conn: Conn, *, patient_id: UUID, alert_id: int | None) -> None:
    """:class:`InvalidTimeEntryError` unless ``alert_id`` is None or the patient's alert."""
    if alert_id is None:
        return
    row = conn.execute(
        queries["alert_is_patients"], {"alert_id": alert_id, "patient_id": patient_id}
    ).fetchone()
    if row is None or not row[0]:
        raise InvalidTimeEntryError(f"alert {alert_id} is not this patient's")


def check_consent(episode: Episode, *, on: datetime) -> None:
    """:class:`ConsentRequiredError` if the episode's time on ``on``'s day needs a consent it
    does not have."""
    if not episode.kind.needs_consent:
        return
    if episode.consent is None:
        msg = f"record the patient's consent to {episode.kind} before logging time toward it"
        raise ConsentRequiredError(msg)
    day = episode.local_date(on)
    if day < episode.consent.on:
        msg = f"the patient consented on {episode.consent.on}; the time is on {day}"
        raise ConsentRequiredError(msg)


@dataclass(frozen=True, slots=True)
class _Row:
    episode: Episode
    coordinator_id: UUID
    span: Span
    work: Work
    alert_id: int | None
    source: EntrySource
    supersedes: int | None = None
    reason: str | None = None


def _insert(conn: Conn, row: _Row, *, actor: UUID, now: datetime) -> TimeEntry:
    span, episode = row.span, row.episode
    if span.started_at.tzinfo is None:
        raise InvalidTimeEntryError("times carry their offset from UTC")
    withdrawal = row.supersedes is not None and span.seconds == 0
    if not (0 if withdrawal else 1) <= span.seconds <= MAX_SECONDS:
        raise InvalidTimeEntryError(f"an entry is 1 s to {MAX_SECONDS // 3600} h long")
    if not withdrawal:
        if span.started_at + timedelta(seconds=span.seconds) > now + CLOCK_SKEW:
            raise InvalidTimeEntryError("the time ends in the future")
        day = episode.local_date(span.started_at)
        if not episode.covers(day):
            ends = episode.ended_on or "now"
            msg = f"{day} is outside the {episode.kind} episode ({episode.started_on} to {ends})"
            raise InvalidTimeEntryError(msg)
        check_consent(episode, on=span.started_at)
    check_alert(conn, patient_id=episode.patient_id, alert_id=row.alert_id)
    params = {
        "episode_id": episode.id,
        "patient_id": episode.patient_id,
        "coordinator_id": row.coordinator_id,
        "started_at": span.started_at,
        "ended_at": span.ended_at,
        "seconds": span.seconds,
        "activity": row.work.activity.value,
        "interactive": row.work.interactive,
        "note": row.work.note,
        "alert_id": row.alert_id,
        "source": row.source.value,
        "supersedes": row.supersedes,
        "reason": row.reason,
        "recorded_by": actor,
        "recorded_at": now,
    }
    query, what = queries["insert_time_entry"], f"time entry {row.supersedes}"
    entry_id = insert_once(conn, query=query, params=params, what=what)
    return get_entry(conn, patient_id=episode.patient_id, entry_id=entry_id)


def log_time(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int | None,
    coordinator_id: UUID,
    span: Span,
    work: Work,
    now: datetime,
    alert_id: int | None = None,
    source: EntrySource = EntrySource.MANUAL,
) -> TimeEntry:
    """Log the coordinator's time toward the episode (or the patient's only open one)."""
    episode = choose_episode(conn, patient_id=patient_id, episode_id=episode_id)
    row = _Row(episode, coordinator_id, span, work, alert_id, source)
    return _insert(conn, row, actor=coordinator_id, now=now)


def correct_entry(
    conn: Conn,
    *,
    patient_id: UUID,
    entry_id: int,
    reason: str,
    actor: UUID,
    now: datetime,
    episode_id: int | None = None,
    span: Span | None = None,
    activity: Activity | None = None,
    interactive: bool | None = None,
    note: str | None = None,
) -> TimeEntry:
    """Supersede the entry with a corrected one: what is not given (None) stays as it was.

    ``span`` with 0 seconds withdraws the entry. The corrected entry keeps its
    coordinator, alert and episode (unless ``episode_id`` moves it to another
    of the patient's episodes); ``actor`` is who corrected it, and ``reason`` why.
    """
    if not reason.strip():
        raise InvalidTimeEntryError("a correction says why")
    old = get_entry(conn, patient_id=patient_id, entry_id=entry_id)
    if old.superseded_by is not None:
        msg = f"time entry {entry_id} was corrected by {old.superseded_by}; correct that one"
        raise AlreadySupersededError(msg)
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id or old.episode_id)
    row = _Row(
        episode=episode,
        coordinator_id=old.coordinator_id,
        span=span or Span(old.started_at, old.ended_at, old.seconds),
        work=Work(
            activity=activity or old.work.activity,
            interactive=old.work.interactive if interactive is None else interactive,
            note=old.work.note if note is None else note,
        ),
        alert_id=old.alert_id,
        source=EntrySource.CORRECTION,
        supersedes=entry_id,
        reason=reason.strip(),
    )
    return _insert(conn, row, actor=actor, now=now)
