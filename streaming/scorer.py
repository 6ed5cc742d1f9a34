"""Scoring for the ingest writer: in this process, or in a process of its own.

The writer stores a batch and asks a :class:`Scorer` what the readings the
insert added show; it writes the detections and the due checkpoints in the
same transaction, then tells the scorer whether that transaction committed.

:class:`LocalScorer` runs the :class:`~streaming.service.MonitorCache` in the
caller's process. :class:`ProcessScorer` runs it in a child process, so that
detection does not compete for the ingest worker's interpreter lock with
paho's network thread. The child has its own database connection, in
autocommit, and loads a monitor (checkpoint plus the stored readings after
it) when a batch first names its patient, and with every batch the alert
resolutions committed since (:meth:`~streaming.service.MonitorCache.load`):
it sees only committed rows, so never the readings of the batch being
scored, which come over the pipe. The writer receives the detections and
the closures in the order the readings showed them (:class:`Scored`).
One round trip per batch (``submit``, then ``result``: the caller may do
other work between the two); ``committed`` and ``rolled_back`` are one-way.

Because the child only ever loads committed state, its scoring can be
*speculative* (:attr:`Scorer.speculative`): the writer submits a batch's
staged rows before the insert, and if the insert turns out to skip some
(stored before), ``rolled_back`` makes the child forget the batch and the
writer submits the rows the insert added. The in-process scorer loads on
the batch's own connection, which would see the batch, so it cannot.

If the child dies, the batch fails with :class:`ScorerUnavailableError` and the
next call starts a new child, whose monitors come from the database; an error
inside the child (a detector that raised) comes back as :class:`ScorerFailedError`
and the child forgets the monitors the batch touched.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import io
import logging
import multiprocessing
import pickle
import signal
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol
from uuid import UUID

import psycopg

from hub import logs
from hub.alerting import Closure, Detection, StreamReading
from hub.db import Conn, connect
from hub.reading_row import ScoringRow, scored_values
from hub.settings import Settings
from streaming.checkpoints import Checkpoint
from streaming.exceptions import ScorerError, ScorerFailedError, ScorerUnavailableError
from streaming.rows import Row, stream_reading
from streaming.service import MonitorCache, default_monitor_cache

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scored:
    """What one batch's readings show, and the checkpoints due with it.

    ``shown`` holds the detections and the closures (episodes that ended) in
    the order the readings showed them, which is the order to write them in.
    """

    shown: list[Detection | Closure]
    checkpoints: list[Checkpoint]
    code_version: int
    #: How long the monitors took over the batch (loading them included).
    seconds: float = 0.0

    @property
    def detections(self) -> list[Detection]:
        return [d for d in self.shown if isinstance(d, Detection)]

    @property
    def closures(self) -> list[Closure]:
        return [c for c in self.shown if isinstance(c, Closure)]


class Scorer(Protocol):
    """What the writer needs from detection; see the module docstring."""

    #: Whether rows may be submitted before the insert, and taken back with
    #: :meth:`rolled_back` if not all of them were new: true only where the
    #: monitors reload from committed data (the child process).
    speculative: bool

    def prepare(self, conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
        """Called before the insert, in the batch's transaction (with every
        patient the batch may store readings of)."""

    def submit(self, rows: Sequence[Row]) -> None:
        """Start scoring the rows the insert added (in any order)."""

    def result(self) -> Scored:
        """What the submitted rows show; waits for it."""

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...

    def close(self) -> None: ...


def _score(cache: MonitorCache, rows: Sequence[Row], *, loading_s: float) -> Scored:
    started = time.perf_counter() - loading_s
    return _score_readings(cache, [stream_reading(row) for row in rows], started=started)


def _score_readings(
    cache: MonitorCache, readings: list[StreamReading], *, started: float
) -> Scored:
    shown = cache.process(readings)
    checkpoints = cache.due_checkpoints()
    return Scored(shown, checkpoints, cache.code_version, time.perf_counter() - started)


class LocalScorer:
    """The monitors in this process; loads them on the batch's own connection."""

    speculative = False

    def __init__(self, cache: MonitorCache) -> None:
        self._cache = cache
        self._scored: Scored | None = None
        self._loading_s = 0.0

    def prepare(self, conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
        # Before the insert, so a cold start replays only older history; this
        # also brings in the alert resolutions committed since the last batch.
        started = time.perf_counter()
        self._cache.load(conn, patient_ids=patient_ids)
        self._loading_s = time.perf_counter() - started

    def submit(self, rows: Sequence[Row]) -> None:
        try:
            loading_s, self._loading_s = self._loading_s, 0.0
            self._scored = _score(self._cache, rows, loading_s=loading_s)
        except Exception as exc:  # as the child reports it: the batch is quarantined
            raise ScorerFailedError(f"{type(exc).__name__}: {exc}") from exc

    def result(self) -> Scored:
        scored, self._scored = self._scored, None
        assert scored is not None, "result() without submit()"
        return scored

    def committed(self) -> None:
        self._cache.committed()

    def rolled_back(self) -> None:
        self._scored = None
        self._cache.rolled_back()

    def close(self) -> None:
        pass


def _serve(pipe: Connection, settings: Settings, log_level: int = logging.INFO) -> None:
    """The child's loop: score batches until the parent goes away."""
    logs.configure(logging.getLevelName(log_level))  # a forkserver child starts with none
    # Ctrl-C reaches the whole process group; the worker decides when to stop
    # and then closes the pipe, which ends this loop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cache = default_monitor_cache(catch_up=settings.ingest_slot is not None)
    conn: psycopg.Connection[Any] | None = None
    while True:
        try:
            op, rows = pipe.recv()
        except (EOFError, OSError):
            break
        if op == "commit":
            cache.committed()
            continue
        if op == "rollback":
            cache.rolled_back()
            continue
        try:
            started = time.perf_counter()
            if conn is None or conn.closed:
                conn = connect(settings)
                conn.autocommit = True
            readings = [stream_reading(ScoringRow._make(values)) for values in rows]
            cache.load(conn, patient_ids={r.patient_id for r in readings})
            reply: object = _score_readings(cache, readings, started=started)
        except psycopg.OperationalError as exc:
            cache.rolled_back()
            conn = None
            reply = ScorerUnavailableError(f"scorer lost its database connection: {exc}")
        except Exception as exc:  # reported to the parent, which quarantines the batch
            log.exception("scoring failed")
            cache.rolled_back()
            reply = ScorerFailedError(f"{type(exc).__name__}: {exc}")
        try:
            pipe.send(reply)
        except OSError:
            break
    if conn is not None:
        conn.close()


@functools.lru_cache(maxsize=1 << 16)
def _uuid(value: int) -> UUID:
    """``UUID(int=value)``, made once per patient rather than once per batch."""
    return UUID(int=value)


def _reduce_uuid(value: UUID) -> tuple[Any, tuple[int]]:
    return _uuid, (value.int,)


#: How the rows sent to the child pickle: a patient id as its number, which the
#: child makes a UUID from its cache (a UUID object pickles and unpickles through
#: Python code, several times slower; once per patient and batch, as pickle keeps
#: one copy of an object sent several times).
_WIRE_REDUCERS = {**copyreg.dispatch_table, UUID: _reduce_uuid}


def _wire(message: object) -> memoryview:
    """``message`` pickled for the child (which reads it with ``Connection.recv``)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _WIRE_REDUCERS
    pickler.dump(message)
    return buffer.getbuffer()


class ProcessScorer:
    """A :class:`Scorer` whose monitors live in a child process."""

    speculative = True

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pipe: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._awaiting = False  # a reply is due

    def _start(self) -> Connection:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["streaming.scorer"])
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_serve,
            args=(child, self._settings, logging.getLogger().getEffectiveLevel()),
            name="lastmile-scorer",
            daemon=True,
        )
        process.start()
        child.close()
        self._pipe, self._process = parent, process
        log.info("scorer process started", extra={"pid": process.pid})
        return parent

    def prepare(self, conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
        pass  # the child loads on its own connection, which cannot see this batch

    @property
    def pid(self) -> int | None:
        """The child's process id, if it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child now rather than with the first batch."""
        if self._pipe is None:
            self._start()

    def submit(self, rows: Sequence[Row]) -> None:
        pipe = self._pipe or self._start()
        try:
            # Plain tuples, which pickle several times faster than named ones;
            # the child makes them ScoringRows again.
            pipe.send_bytes(_wire(("score", list(map(scored_values, rows)))))
            self._awaiting = True
        except OSError as exc:
            self.close()
            raise ScorerUnavailableError("the scorer process went away") from exc

    def result(self) -> Scored:
        if self._pipe is None:
            raise ScorerUnavailableError("the scorer process went away")
        try:
            reply = self._pipe.recv()
            self._awaiting = False
        except (EOFError, OSError) as exc:
            self.close()
            raise ScorerUnavailableError("the scorer process went away") from exc
        if isinstance(reply, Exception):
            raise reply
        assert isinstance(reply, Scored)
        return reply

    def _tell(self, op: str) -> None:
        if self._pipe is None:
            return
        try:
            self._pipe.send((op, ()))
        except OSError:
            self.close()  # the next batch starts a new child, from the database

    def committed(self) -> None:
        self._tell("commit")

    def rolled_back(self) -> None:
        if self._awaiting:  # the reply of a batch that failed after submit
            with contextlib.suppress(ScorerError):
                self.result()
        self._tell("rollback")

    def close(self) -> None:
        pipe, process = self._pipe, self._process
        self._pipe = self._process = None
        self._awaiting = False
        if pipe is not None:
            pipe.close()  # the child sees EOF and exits
        if process is not None:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
