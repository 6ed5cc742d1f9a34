"""The ingest worker: MQTT in, micro-batches committed, acks after commit.

Threads:

* paho's network thread only stamps each message and puts it on a queue;
* the worker thread (the caller of :meth:`IngestWorker.run`) gathers a batch
  (up to ``ingest_batch_size`` messages or ``ingest_flush_ms`` after the first
  one), stores it in one transaction, and only after the commit sends the
  PUBACKs. If the database is away the batch is held and retried, unacked;
  the broker stops sending once its in-flight limit for this session is
  reached, which bounds the worker's memory;
* the adherence scheduler's thread runs the non-adherence pass every
  ``adherence_interval_s``.

Detection runs in a child process (:class:`~streaming.scorer.ProcessScorer`),
not on this interpreter's lock: while it scores one batch, the worker thread
collects and parses the next (:mod:`flows.batches`). The alerts and detector
checkpoints still commit in the batch's own transaction.

The hub's own session is MQTT 3.1.1 with ``clean_session=False`` (paho's
receive path is cheaper for 3.1.1 than for 5, measured by ``lastmile bench
ingest``), so messages published while the worker is down are queued by the
broker and delivered on reconnect.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from flows.batches import BatchStore, InFlight
from flows.schedule import AdherenceScheduler, ArrivalChecks
from flows.writer import BatchResult
from hub.settings import Settings
from hub.sql import queries
from hub.topics import errors_topic, feed_errors_topic
from ingest import metrics
from ingest.models import Received
from ingest.routing import SUBSCRIPTIONS
from ingest.session import persist_new_session
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


#: Rejections read and published per pass of the worker loop.
_REJECTIONS_PER_PASS = 1000


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
        self._client_id = client_id or settings.mqtt_ingest_client_id
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._generation = 0
        self._connected = threading.Event()
        self._session_present = False
        #: Subscriptions sent on this connection and not yet granted (SUBACK).
        self._unacked_subscriptions: set[int] = set()
        if scorer is None and settings.detection_enabled:
            scorer = (
                ProcessScorer(settings)
                if settings.detection_process
                else LocalScorer(default_monitor_cache())
            )
        self._scorer = scorer
        arrival = (
            ArrivalChecks(interval_s=settings.adherence_interval_s)
            if scorer is not None and settings.adherence_on_arrival
            else None
        )
        self._store = BatchStore(
            settings, validator=self._validator, scorer=scorer, arrival=arrival
        )
        self._unconfirmed: list[tuple[mqtt.MQTTMessageInfo, int]] = []
        # Rejections to send exist after a batch that made some, and possibly
        # from before a restart: look once at start-up, then only when due.
        self._rejections_due = True
        self._in_hand = 0
        self._stats = WorkerStats()
        self._client = self._make_client()
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
        return self._connected.wait(timeout)

    # -- paho side: nothing but hand-off -------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            clean_session=False,
            protocol=MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        client.username_pw_set(
            self._settings.mqtt_hub_username, self._settings.mqtt_hub_password.get_secret_value()
        )
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Rejections we publish are QoS 1; let paho keep plenty in flight.
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: Any,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            log.error("mqtt connect refused", extra={"reason": str(reason)})
            return
        self._generation += 1
        self._session_present = bool(flags.session_present)
        lost = self._generation > 1 and not flags.session_present
        metrics.connected(session_present=self._session_present, lost=lost)
        sent = (client.subscribe(sub.topic_filter, qos=sub.qos) for sub in SUBSCRIPTIONS)
        self._unacked_subscriptions = {mid for _, mid in sent if mid is not None}
        log.info(
            "mqtt connected",
            extra={"session_present": flags.session_present, "generation": self._generation},
        )
        if lost:
            # What the broker accepted while this session was gone went nowhere.
            log.error("mqtt session lost by the broker", extra={"generation": self._generation})

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, properties: Any
    ) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("mqtt subscription refused", extra={"reasons": [str(r) for r in reasons]})
            return
        self._unacked_subscriptions.discard(mid)
        if not self._unacked_subscriptions:
            # Only now does the broker queue for this session what arrives
            # while the worker is away.
            self._connected.set()
            metrics.subscribed()
            if not self._session_present:
                # A new session is only in the broker's memory until it saves.
                threading.Thread(
                    target=persist_new_session, args=(self._settings,), daemon=True
                ).start()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._connected.clear()
        metrics.disconnected()
        level = logging.WARNING if getattr(reason, "is_failure", True) else logging.INFO
        log.log(level, "mqtt disconnected", extra={"reason": str(reason)})

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Received(
                topic=msg.topic,
                payload=bytes(msg.payload),
                mid=msg.mid,
                dup=bool(msg.dup),
                received_at=datetime.now(UTC),
                generation=self._generation,
                retained=bool(msg.retain),
            )
        )

    # -- worker side -----------------------------------------------------------

    def run(
        self, stop: threading.Event, *, on_batch: Callable[[BatchResult], None] | None = None
    ) -> None:
        """Run until ``stop`` is set; the batch in hand is finished first.

        Each pass collects and parses the next batch while the previous one
        is being scored, then lands (commits and acks) the previous one and
        launches the next (see :mod:`flows.batches`).
        """
        s = self._settings
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s)
        self._client.loop_start()
        if isinstance(self._scorer, ProcessScorer):
            self._scorer.start()  # while the first messages arrive
        if self._scorer is not None:
            scheduler = AdherenceScheduler(s, interval_s=s.adherence_interval_s)
            threading.Thread(target=scheduler.run, args=(stop,), daemon=True).start()
        last_report = time.monotonic()
        flight: InFlight | None = None
        try:
            while not stop.is_set():
                batch = self._collect(stop, wait=flight is None)
                metrics.received(len(batch))
                parsed = self._store.parse(batch) if batch else None
                self._in_hand = len(batch) + (len(flight.batch) if flight else 0)
                if flight is not None:
                    if not self._settle(flight.batch, self._store.land(flight, stop), on_batch):
                        break  # stopping while the database was away: nothing acked
                    flight = None
                self._publish_rejections(stop)  # between transactions
                if parsed is not None:
                    launched = self._store.launch(batch, parsed, stop)
                    if isinstance(launched, InFlight):
                        flight = launched
                    elif not self._settle(batch, launched, on_batch):
                        break
                self._in_hand = len(flight.batch) if flight else 0
                if time.monotonic() - last_report > 10:
                    last_report = time.monotonic()
                    log.info("ingest progress", extra=asdict(self.stats))
            if flight is not None:
                self._settle(flight.batch, self._store.land(flight, stop), on_batch)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            self._store.close()

    def _settle(
        self,
        batch: Sequence[Received],
        result: BatchResult | None,
        on_batch: Callable[[BatchResult], None] | None,
    ) -> bool:
        """Acknowledge a committed batch; ``False`` if it did not commit (stopping)."""
        if result is None:
            return False
        self._ack(batch)
        metrics.batch_committed(batch, result)
        self._stats.add(result)
        self._rejections_due = self._rejections_due or result.rejected > 0
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

    def _ack(self, batch: Sequence[Received]) -> None:
        generation = self._generation
        for message in batch:
            # A message received on an earlier connection is redelivered by the
            # broker on this one; acking its old packet id would be wrong.
            if message.generation == generation:
                self._client.ack(message.mid, 1)

    def _publish_rejections(self, stop: threading.Event) -> None:
        """Send committed rejections on the errors topics; mark them sent."""
        if not self._connected.is_set() or not (self._rejections_due or self._unconfirmed):
            return
        try:
            conn = self._store.connection()
            with conn.transaction():
                confirmed = [dl_id for info, dl_id in self._unconfirmed if info.is_published()]
                self._unconfirmed = [(i, d) for i, d in self._unconfirmed if not i.is_published()]
                if confirmed:
                    conn.execute(
                        queries["mark_rejections_notified"],
                        {"ids": confirmed, "notified_at": datetime.now(UTC)},
                    )
                waiting = {dl_id for _, dl_id in self._unconfirmed}
                rows = conn.execute(
                    queries["pending_rejections"], {"limit": _REJECTIONS_PER_PASS}
                ).fetchall()
            self._rejections_due = len(rows) >= _REJECTIONS_PER_PASS
        except psycopg.OperationalError:
            self._store.drop_connection()
            return
        for dl_id, gateway_id, serial, feed_id, header_id, index, code, detail in rows:
            if dl_id in waiting:
                continue
            if feed_id is not None:
                topic = feed_errors_topic(str(feed_id))
                body = {"dispense_id": header_id, "index": index, "code": code, "detail": detail}
            else:
                topic = errors_topic(str(gateway_id))
                body = {
                    "header_id": header_id,
                    "device_serial": serial,
                    "code": code,
                    "detail": detail,
                }
            info = self._client.publish(topic, orjson.dumps(body), qos=1)
            self._unconfirmed.append((info, int(dl_id)))
