"""A coordinator's running timer on a patient, kept in the database.

One per coordinator and patient (``running_timers``), so a reload or a
second tab finds the same timer: starting again returns the running one
(unless it names another episode: :class:`TimerError`). Stopping it removes
it and logs its time (:mod:`programs.timelog`), in the caller's transaction;
two stops at once log it once (the second finds no timer). A timer is
started only toward an open episode the patient has consented to (if it
needs consent), so stopping it is not refused for want of consent.

Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from hub.db import Conn
from hub.sql import queries
from programs.episodes import choose_episode
from programs.exceptions import InvalidTimeEntryError, ProgramClosedError, TimerError
from programs.models import EntrySource, TimeEntry, Timer, Work
from programs.timelog import MAX_SECONDS, Span, check_alert, check_consent, log_time


def _timer(row: Mapping[str, Any] | None) -> Timer | None:
    return Timer(**row) if row is not None else None


def current_timer(conn: Conn, *, coordinator_id: UUID, patient_id: UUID) -> Timer | None:
    """The coordinator's running timer on the patient, if any."""
    key = {"coordinator_id": coordinator_id, "patient_id": patient_id}
    with conn.cursor(row_factory=dict_row) as cur:
        return _timer(cur.execute(queries["running_timer"], key).fetchone())


def start_timer(
    conn: Conn,
    *,
    coordinator_id: UUID,
    patient_id: UUID,
    now: datetime,
    episode_id: int | None = None,
    alert_id: int | None = None,
) -> tuple[Timer, bool]:
    """The coordinator's timer on the patient, started now unless one runs; and whether new.

    ``episode_id`` None: the patient's only open episode (or the running timer's).
    """
    running = current_timer(conn, coordinator_id=coordinator_id, patient_id=patient_id)
    if running is not None:
        if episode_id is not None and episode_id != running.episode_id:
            msg = f"a timer toward programme {running.episode_id} is running; stop it first"
            raise TimerError(msg)
        return running, False
    episode = choose_episode(conn, patient_id=patient_id, episode_id=episode_id)
    if not episode.is_open:
        raise ProgramClosedError(f"programme {episode.id} ended on {episode.ended_on}")
    check_consent(episode, on=now)
    check_alert(conn, patient_id=patient_id, alert_id=alert_id)
    params = {
        "coordinator_id": coordinator_id,
        "patient_id": patient_id,
        "episode_id": episode.id,
        "alert_id": alert_id,
        "now": now,
    }
    started = conn.execute(queries["start_timer"], params).rowcount == 1
    timer = current_timer(conn, coordinator_id=coordinator_id, patient_id=patient_id)
    assert timer is not None
    if not started and episode_id is not None and episode_id != timer.episode_id:
        raise TimerError(f"a timer toward programme {timer.episode_id} was started meanwhile")
    return timer, started


def stop_timer(
    conn: Conn, *, coordinator_id: UUID, patient_id: UUID, work: Work, now: datetime
) -> TimeEntry:
    """Stop the coordinator's timer on the patient and log its time as what ``work`` says."""
    key = {"coordinator_id": coordinator_id, "patient_id": patient_id}
    with conn.cursor(row_factory=dict_row) as cur:
        timer = _timer(cur.execute(queries["take_timer"], key).fetchone())
    if timer is None:
        raise TimerError("no timer is running on this patient")
    span = Span(timer.started_at, now, int((now - timer.started_at).total_seconds()))
    if not 1 <= span.seconds <= MAX_SECONDS:
        msg = "the timer ran under a second or over a day: discard it (and log the time by hand)"
        raise InvalidTimeEntryError(msg)
    return log_time(
        conn,
        patient_id=patient_id,
        episode_id=timer.episode_id,
        coordinator_id=coordinator_id,
        span=span,
        work=work,
        now=now,
        alert_id=timer.alert_id,
        source=EntrySource.TIMER,
    )


def discard_timer(conn: Conn, *, coordinator_id: UUID, patient_id: UUID) -> bool:
    """Drop the coordinator's running timer on the patient unlogged; whether one ran."""
    key = {"coordinator_id": coordinator_id, "patient_id": patient_id}
    return conn.execute(queries["take_timer"], key).fetchone() is not None
