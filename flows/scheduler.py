"""The scheduled passes: every interval the checks, once a day the billing forecast.

:class:`AdherenceScheduler` runs in a thread of the ingest worker, on a
connection of its own. Every ``interval_s`` it marks silent devices
(:mod:`devices.lifecycle`), runs the non-adherence checks and the
reading-gap check (:func:`~flows.schedule.run_adherence_checks`,
:mod:`flows.reading_gaps`, under the checks' lock,
:func:`~flows.schedule.hold_checks_lock`), the refill checks and the
transitional-care checks (:mod:`flows.tcm_alerts`); once a UTC day the
billing forecast (:mod:`flows.forecasts`).

The hub's one worker keeps the schedule in memory: the first pass one
interval after it starts, the forecast again after a restart (the passes
are idempotent).

Several workers (docs/scaling.md) run the passes once per interval between
them (:class:`Turns`). Every tick (a quarter of the interval, at most 5 s)
each worker tries to take the turn, a session-level advisory lock that it
does not wait for; the worker that has it looks at the newest recorded run
of each pass (``scheduled_runs``), runs the checks if that run is an
interval old and the forecast if it has not run this UTC day, records what
it ran, and lets the turn go. Runs of a pass are thus at least an interval
apart, whichever workers ran them. A worker that dies during a pass loses
the turn with its connection and has recorded nothing: the next worker to
take the turn runs that pass again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import psycopg

from devices.lifecycle import mark_silent_devices
from flows.forecasts import run_forecast_pass
from flows.reading_gaps import run_gap_checks
from flows.refill_checks import run_refill_checks
from flows.schedule import hold_checks_lock, run_adherence_checks
from flows.sharing import TURN_LOCK
from flows.tcm_alerts import run_tcm_checks
from hub.db import Conn, connect
from hub.settings import Settings
from hub.sql import queries

log = logging.getLogger(__name__)

#: The passes as ``scheduled_runs`` names them.
CHECKS = "checks"
FORECAST = "forecast"
#: How long the record of runs is kept.
KEEP_RUNS = timedelta(days=35)
#: The longest a worker of several waits between looks at the turn.
MAX_TICK_S = 5.0


class Daily:
    """Whether a daily pass is due: at the first interval, then once each UTC day.

    Kept in memory: a restarted worker runs it again, which the passes allow
    (they are idempotent).

    >>> daily, t = Daily(), datetime(2026, 3, 2, 23, 50, tzinfo=UTC)
    >>> daily.due(t), daily.done(t), daily.due(t + timedelta(minutes=5))
    (True, None, False)
    >>> daily.due(t + timedelta(minutes=15))  # 00:05 the next day
    True
    """

    def __init__(self) -> None:
        self._last: date | None = None

    def due(self, now: datetime) -> bool:
        return self._last != now.astimezone(UTC).date()

    def done(self, now: datetime) -> None:
        self._last = now.astimezone(UTC).date()


class Turns:
    """The scheduled passes' turn among several workers (see the module docstring).

    ``ran_by`` names this worker in the record of runs (its MQTT client id).
    Every method runs on the caller's connection, which must be in autocommit
    (the turn is a session lock, the record of a run commits at once).
    """

    def __init__(self, *, ran_by: str) -> None:
        self.ran_by = ran_by

    def take(self, conn: Conn) -> bool:
        """Take the turn if nobody has it; whether this worker has it now."""
        row = conn.execute(queries["try_session_lock"], TURN_LOCK).fetchone()
        return bool(row and row[0])

    def release(self, conn: Conn) -> None:
        conn.execute(queries["session_unlock"], TURN_LOCK)

    def last_run(self, conn: Conn, name: str) -> datetime | None:
        row = conn.execute(queries["last_scheduled_run"], {"pass": name}).fetchone()
        return None if row is None else row[0]

    def record(self, conn: Conn, name: str, *, now: datetime) -> None:
        with conn.transaction():
            params = {"pass": name, "ran_at": now, "ran_by": self.ran_by}
            conn.execute(queries["record_scheduled_run"], params)
            conn.execute(queries["prune_scheduled_runs"], {"pass": name, "before": now - KEEP_RUNS})
        log.info("scheduled pass recorded", extra={"pass": name, "ran_by": self.ran_by})


class AdherenceScheduler:
    """Runs the scheduled passes on its own connection (see the module docstring);
    with ``turns``, as one of several workers."""

    def __init__(
        self,
        settings: Settings,
        *,
        interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        turns: Turns | None = None,
    ) -> None:
        self._settings = settings
        self._interval_s = interval_s
        self._clock = clock
        self._turns = turns
        self._forecast = Daily()

    def run(self, stop: threading.Event) -> None:
        tick = self._interval_s if self._turns is None else min(self._interval_s / 4, MAX_TICK_S)
        while not stop.wait(tick):
            try:
                now = self._clock()
                with connect(self._settings) as conn:
                    conn.autocommit = True  # each pass commits in transactions of its own
                    if self._turns is None:
                        forecast = self._forecast.due(now)
                        self._passes(conn, now=now, checks=True, forecast=forecast)
                        if forecast:
                            self._forecast.done(now)
                    else:
                        self._take_turn(conn, self._turns, now=now)
            except psycopg.Error:
                log.exception("adherence check failed; next try in the next interval")

    def _take_turn(self, conn: Conn, turns: Turns, *, now: datetime) -> None:
        if not turns.take(conn):
            return
        try:
            last = turns.last_run(conn, CHECKS)
            checks = last is None or now - last >= timedelta(seconds=self._interval_s)
            last = turns.last_run(conn, FORECAST)
            forecast = last is None or last.astimezone(UTC).date() != now.astimezone(UTC).date()
            self._passes(conn, now=now, checks=checks, forecast=forecast)
            if checks:
                turns.record(conn, CHECKS, now=now)
            if forecast:
                turns.record(conn, FORECAST, now=now)
        finally:
            turns.release(conn)

    def _passes(self, conn: Conn, *, now: datetime, checks: bool, forecast: bool) -> None:
        recorded = 0
        if checks:
            with conn.transaction():
                mark_silent_devices(conn, now=now)
            with conn.transaction():
                hold_checks_lock(conn, exclusive=True)
                recorded = run_adherence_checks(conn, now=now)
                recorded += run_gap_checks(conn, now=now)
            with conn.transaction():
                recorded += run_refill_checks(conn, now=now)
            with conn.transaction():
                recorded += run_tcm_checks(conn, now=now)
        if forecast:
            with conn.transaction():
                result = run_forecast_pass(conn, now=now, reader=lambda: connect(self._settings))
            log.info("billing forecast", extra=asdict(result))
        if recorded:
            log.info("adherence alerts recorded", extra={"recorded": recorded})
