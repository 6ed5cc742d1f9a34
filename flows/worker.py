"""The ingest worker: MQTT in, micro-batches committed, acks after commit.

Threads:

* paho's network thread only stamps each message and puts it on a queue
  (:class:`~ingest.mqtt_client.IngestClient`);
* the worker thread (the caller of :meth:`IngestWorker.run`) gathers a batch
  (up to ``ingest_batch_size`` messages or ``ingest_flush_ms`` after the first
  one), stores it in one transaction, and only after the commit sends the
  PUBACKs. If the database is away the batch is held and retried, unacked;
  the broker stops sending once its in-flight limit for this session is
  reached, which bounds the worker's memory;
* the scheduler's thread runs the scheduled passes every
  ``adherence_interval_s`` (:mod:`flows.scheduler`).

Detection runs in a child process (:class:`~streaming.scorer.ProcessScorer`),
not on this interpreter's lock: while it scores one batch, the worker thread
collects and parses the next (:mod:`flows.batches`). The alerts and detector
checkpoints still commit in the batch's own transaction.

The hub's one worker has a persistent session of its own, so messages
published while it is down are queued by the broker and delivered on
reconnect; told to stop, it finishes the batch in hand and disconnects.
One of several (``ingest_slot`` set, docs/scaling.md) first claims its slot
(:class:`~flows.sharing.SlotMembership`), takes per-patient locks in each
batch (:mod:`flows.patient_order`) and runs the scheduled passes only in
its turn; told to stop, it drains: it leaves the share group (unless it is
the last member), stores and acknowledges what the broker had queued for
it until none has come for a while (at most ``ingest_drain_s``), and then
disconnects, so nothing is left waiting in its session.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from flows.batches import BatchStore, InFlight
from flows.rejections import RejectionSender
from flows.schedule import ArrivalChecks
from flows.scheduler import AdherenceScheduler, Turns
from flows.sharing import SlotMembership
from flows.writer import BatchResult
from hub.settings import Settings
from ingest import metrics
from ingest.models import Received
from ingest.mqtt_client import IngestClient
from ingest.validation import Validator
from streaming.scorer import LocalScorer, ProcessScorer, Scorer
from streaming.service import default_monitor_cache

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WorkerStats:
    messages: int = 0
    stored: int = 0
    rejected: int = 0
    dispenses: int = 0
    batches: int = 0
    db_retries: int = 0

    def add(self, result: BatchResult) -> None:
        self.messages += result.messages
        self.stored += result.stored
        self.rejected += result.rejected
        self.dispenses += result.dispenses
        self.batches += 1


class IngestWorker:
    """Subscribe, validate, store and acknowledge; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        validator: Validator | None = None,
        client_id: str | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self._settings = settings
        self._validator = validator or Validator.from_settings(settings)
        self._shared = settings.ingest_slot is not None
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        if scorer is None and settings.detection_enabled:
            scorer = (
                ProcessScorer(settings)
                if settings.detection_process
                else LocalScorer(default_monitor_cache(catch_up=self._shared))
            )
        self._scorer = scorer
        arrival = (
            ArrivalChecks(interval_s=settings.adherence_interval_s)
            if scorer is not None and settings.adherence_on_arrival
            else None
        )
        self._store = BatchStore(
            settings,
            validator=self._validator,
            scorer=scorer,
            arrival=arrival,
            shared=self._shared,
        )
        self._in_hand = 0
        self._stats = WorkerStats()
        self._client = IngestClient(settings, self._inbox, client_id=client_id)
        self._rejections = RejectionSender(self._store, self._client)
        self._membership = (
            None if settings.ingest_slot is None else SlotMembership(settings, settings.ingest_slot)
        )
        metrics.watch_in_flight(self)

    @property
    def stats(self) -> WorkerStats:
        """Counts so far (a live view)."""
        self._stats.db_retries = self._store.db_retries
        return self._stats

    @property
    def pending(self) -> int:
        """Messages received and not yet acknowledged (queued plus in hand)."""
        return self._inbox.qsize() + self._in_hand

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the broker accepted the session and granted every subscription."""
        return self._client.wait_connected(timeout)

    def run(
        self, stop: threading.Event, *, on_batch: Callable[[BatchResult], None] | None = None
    ) -> None:
        """Run until ``stop`` is set; the batch in hand is finished first (and,
        for one of several workers, what the broker had queued for it)."""
        s = self._settings
        if self._membership is not None and not self._membership.claim(stop):
            return
        self._client.start()
        if isinstance(self._scorer, ProcessScorer):
            self._scorer.start()  # while the first messages arrive
        if self._scorer is not None:
            turns = Turns(ran_by=self._client.client_id) if self._shared else None
            scheduler = AdherenceScheduler(s, interval_s=s.adherence_interval_s, turns=turns)
            threading.Thread(target=scheduler.run, args=(stop,), daemon=True).start()
        try:
            self._pump(stop, stop.is_set, on_batch)
            if self._membership is not None and self._membership.leave():
                self._drain(on_batch)
        finally:
            self._client.stop()
            self._store.close()
            if self._membership is not None:
                self._membership.close()
            log.info("ingest worker stopped", extra=asdict(self.stats))

    def _drain(self, on_batch: Callable[[BatchResult], None] | None) -> None:
        """Out of the share group: store what the broker still sends this session."""
        s = self._settings
        halt = threading.Event()  # the drain's deadline: then leave the rest unacked
        timer = threading.Timer(s.ingest_drain_s, halt.set)
        timer.daemon = True
        timer.start()
        began = time.monotonic()
        if not self._client.unsubscribe(timeout=s.ingest_drain_s):
            log.warning("the broker did not confirm the unsubscribe; draining anyway")
        quiet_s = max(1.0, 4 * s.ingest_flush_ms / 1000)

        def drained() -> bool:
            last = max(self._client.last_message_at, began)
            return halt.is_set() or (self._inbox.empty() and time.monotonic() - last >= quiet_s)

        try:
            self._pump(halt, drained, on_batch)
        finally:
            timer.cancel()
        left = self.pending
        log.log(
            logging.WARNING if left else logging.INFO,
            "drained",
            extra={"seconds": round(time.monotonic() - began, 3), "left_unacked": left},
        )

    def _pump(
        self,
        halt: threading.Event,
        done: Callable[[], bool],
        on_batch: Callable[[BatchResult], None] | None,
    ) -> None:
        """Store batches until ``done()``; ``halt`` stops retries of a batch in hand.

        Each pass collects and parses the next batch while the previous one
        is being scored, then lands (commits and acks) the previous one and
        launches the next (see :mod:`flows.batches`).
        """
        last_report = time.monotonic()
        flight: InFlight | None = None
        while not done():
            batch = self._collect(halt, wait=flight is None)
            metrics.received(len(batch))
            parsed = self._store.parse(batch) if batch else None
            self._in_hand = len(batch) + (len(flight.batch) if flight else 0)
            if flight is not None:
                if not self._settle(flight.batch, self._store.land(flight, halt), on_batch):
                    break  # stopping while the database was away: nothing acked
                flight = None
            if self._client.connected:
                self._rejections.send()  # between transactions
            if parsed is not None:
                launched = self._store.launch(batch, parsed, halt)
                if isinstance(launched, InFlight):
                    flight = launched
                elif not self._settle(batch, launched, on_batch):
                    break
            self._in_hand = len(flight.batch) if flight else 0
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                log.info("ingest progress", extra=asdict(self.stats))
                if self._membership is not None:
                    self._membership.check()
        if flight is not None:
            self._settle(flight.batch, self._store.land(flight, halt), on_batch)
            self._in_hand = 0

    def _settle(
        self,
        batch: Sequence[Received],
        result: BatchResult | None,
        on_batch: Callable[[BatchResult], None] | None,
    ) -> bool:
        """Acknowledge a committed batch; ``False`` if it did not commit (stopping)."""
        if result is None:
            return False
        self._client.ack(batch)
        metrics.batch_committed(batch, result)
        self._stats.add(result)
        if result.rejected:
            self._rejections.due()
        if on_batch is not None:
            on_batch(result)
        return True

    def _collect(self, stop: threading.Event, *, wait: bool = True) -> list[Received]:
        """The next batch; without ``wait``, only what is already in the inbox."""
        limit = self._settings.ingest_batch_size
        if not wait:
            batch: list[Received] = []
            while len(batch) < limit:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            return batch
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._settings.ingest_flush_ms / 1000
        while len(batch) < limit:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch
