"""Batches into transactions: retries, recovery message by message, and overlap.

:class:`BatchStore` owns the ingest worker's database connection. A batch is
stored in one transaction (:mod:`flows.writer`). With a scorer, the worker
*launches* a batch (stored, readings handed to the scorer, transaction still
open) and *lands* it later (alerts and checkpoints written, committed), and
in between parses the next batch: the scorer's work and the parsing overlap.

Failures, whichever step they hit, roll the transaction back and the batch
is stored again from the start on its own:

* the database or the scorer went away (``OperationalError``,
  :class:`~streaming.exceptions.ScorerUnavailableError`): retried with
  backoff, the batch held unacked until it commits;
* anything else the database refused, or a detector that raised: the batch
  is stored message by message, and a message that still fails is
  quarantined with ``internal_error``.

A worker of several (``shared``, docs/scaling.md) locks each batch's
patients and orders their readings after the stored ones before anything
is scored or inserted (:mod:`flows.patient_order`, in
:func:`~flows.writer.store_batch`).

Before its scores are written (while the scorer still works on them) and
the batch commits, the non-adherence checks run on arrival for the batch's
patients (:func:`~flows.schedule.check_on_arrival`): in full for those
that are due and whose readings have caught up with the present
(:class:`~flows.schedule.ArrivalChecks`,
:func:`~flows.schedule.caught_up`), and for every patient what the
batch's readings may have cleared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from uuid import UUID

import psycopg

from flows.directory import DeviceDirectory
from flows.schedule import ArrivalChecks, caught_up, check_on_arrival
from flows.writer import BatchResult, StoredBatch, finish_batch, prepare_connection, store_batch
from hub.db import Conn, connect
from hub.settings import Settings
from ingest import metrics
from ingest.dead_letters import quarantine
from ingest.models import Received
from ingest.routing import ParsedBatch, parse_batch
from ingest.validation import Validator
from streaming.exceptions import ScorerError, ScorerFailedError, ScorerUnavailableError
from streaming.scorer import Scorer

log = logging.getLogger(__name__)

#: Errors after which the batch is stored again: transient ones first.
_TRANSIENT = (psycopg.OperationalError, ScorerUnavailableError)
_REFUSED = (psycopg.Error, ScorerFailedError)


@dataclass(frozen=True, slots=True)
class InFlight:
    """A launched batch: stored in the open transaction, its scores coming."""

    batch: Sequence[Received]
    stored: StoredBatch


class BatchStore:
    """Stores batches; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        validator: Validator,
        scorer: Scorer | None,
        arrival: ArrivalChecks | None = None,
        shared: bool = False,
    ) -> None:
        self._settings = settings
        self._shared = shared
        self._validator = validator
        self._scorer = scorer
        self._arrival = arrival
        self._directory = DeviceDirectory()
        self._conn: Conn | None = None
        self.db_retries = 0

    def connection(self) -> Conn:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._settings)
            prepare_connection(self._conn)
        return self._conn

    def drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        self.drop_connection()
        if self._scorer is not None:
            self._scorer.close()

    def parse(self, batch: Sequence[Received]) -> ParsedBatch:
        return parse_batch(batch, validator=self._validator)

    # -- overlapped: launch, then land -------------------------------------

    def launch(
        self, batch: Sequence[Received], parsed: ParsedBatch, stop: threading.Event
    ) -> InFlight | BatchResult | None:
        """Store ``batch`` and leave its transaction open while it is scored.

        Without a scorer, or if storing fails, the batch is finished here and
        its result returned (``None``: stopping, nothing committed).
        """
        if self._scorer is None:
            return self.store_with_retry(batch, stop, parsed=parsed)
        try:
            conn = self.connection()
            stored = store_batch(
                conn,
                parsed=parsed,
                directory=self._directory,
                scorer=self._scorer,
                shared=self._shared,
            )
        except (psycopg.Error, ScorerError) as exc:
            self._abort(exc)
            return self.store_with_retry(batch, stop, parsed=parsed)
        return InFlight(batch, stored)

    def land(self, flight: InFlight, stop: threading.Event) -> BatchResult | None:
        """Write the scores of a launched batch and commit it."""
        try:
            conn = self.connection()
            # The checks first: they need no scores, and run while the scorer works.
            checked = self._check_on_arrival(conn, flight.stored)
            result = finish_batch(conn, stored=flight.stored, scorer=self._scorer)
            conn.commit()
        except (psycopg.Error, ScorerError) as exc:
            self._abort(exc)
            return self.store_with_retry(flight.batch, stop)
        self._committed(checked)
        return result

    def _check_on_arrival(self, conn: Conn, stored: StoredBatch) -> list[UUID]:
        """Non-adherence of the batch's patients, in its transaction; those checked in full."""
        due: list[UUID] = []
        others: list[UUID] = []
        if self._arrival is not None and stored.latest is not None:
            due = self._arrival.due(caught_up(stored.newest_measured, now=stored.latest))
            others = sorted(stored.patient_ids - set(due), key=attrgetter("int"))
        if due or others or stored.back_online:
            stored.result.evidence += check_on_arrival(
                conn,
                now=stored.latest or max(at for _, at in stored.back_online),
                due=due,
                others=others,
                back_online=stored.back_online,
            )
        return due

    def _committed(self, checked: list[UUID]) -> None:
        if self._scorer is not None:
            self._scorer.committed()
        if self._arrival is not None and checked:
            self._arrival.checked(checked)

    def _abort(self, exc: BaseException) -> None:
        log.warning(
            "batch failed; storing it again on its own", extra={"cause": type(exc).__name__}
        )
        if self._scorer is not None:
            self._scorer.rolled_back()
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.rollback()
            except psycopg.OperationalError:
                self.drop_connection()

    # -- one batch, start to finish ------------------------------------------

    def store_with_retry(
        self,
        batch: Sequence[Received],
        stop: threading.Event,
        *,
        parsed: ParsedBatch | None = None,
    ) -> BatchResult | None:
        """Store ``batch`` in one transaction; ``None`` if stopping before it committed."""
        delay = 0.1
        while True:
            try:
                conn = self.connection()
                try:
                    return self._store(conn, parsed or self.parse(batch))
                except _TRANSIENT:
                    raise
                except _REFUSED as exc:
                    log.exception("batch failed; storing its messages one by one")
                    return self._store_one_by_one(conn, batch, exc)
            except _TRANSIENT as exc:
                self.db_retries += 1
                metrics.db_retry()
                log.warning(
                    "database unavailable; holding batch unacked",
                    extra={"messages": len(batch), "retry_in_s": delay, "error": str(exc)},
                )
                self.drop_connection()
                if stop.wait(delay):
                    return None
                delay = min(delay * 2, self._settings.ingest_retry_max_s)

    def _store(self, conn: Conn, parsed: ParsedBatch) -> BatchResult:
        """One transaction; the scorer's in-memory state follows its outcome."""
        try:
            with conn.transaction():
                stored = store_batch(
                    conn,
                    parsed=parsed,
                    directory=self._directory,
                    scorer=self._scorer,
                    shared=self._shared,
                )
                checked = self._check_on_arrival(conn, stored)
                result = finish_batch(conn, stored=stored, scorer=self._scorer)
        except BaseException:
            if self._scorer is not None:
                self._scorer.rolled_back()
            raise
        self._committed(checked)
        return result

    def _store_one_by_one(
        self, conn: Conn, batch: Sequence[Received], cause: Exception
    ) -> BatchResult:
        total = BatchResult()
        for message in batch:
            try:
                part = self._store(conn, self.parse([message]))
            except _TRANSIENT:
                raise
            except _REFUSED as exc:
                with conn.transaction():
                    quarantine(
                        conn, message=message, detail=f"hub failed to process: {type(exc).__name__}"
                    )
                part = BatchResult(messages=1, rejected=1, codes={"internal_error": 1})
            total.add(part)
        log.warning("batch recovered message by message", extra={"cause": type(cause).__name__})
        return total
