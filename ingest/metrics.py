"""The ingest worker's metrics (served on ``settings.ingest_metrics_port``; docs/metrics.md).

The worker (:mod:`flows.worker`) counts a batch once it committed and its
messages were acknowledged (:func:`batch_committed`), so a batch held
while the database is away shows as in-flight messages and database
retries, not as stored readings. Labels: the rejection code only.

>>> from prometheus_client import REGISTRY
>>> def unknown() -> float | None:
...     labels = {"code": "unknown_device"}
...     return REGISTRY.get_sample_value("lastmile_ingest_rejected_total", labels)
>>> before = unknown()
>>> count_rejections({"unknown_device": 2})
>>> unknown() - before
2.0
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

from hub.domain import RejectionCode
from hub.metrics import multiprocess
from ingest.models import Received

RECEIVED = Counter(
    "lastmile_ingest_messages_received",
    "MQTT messages the ingest worker took from the broker into a batch "
    "(a message the broker delivers again is counted again).",
)
STORED = Counter(
    "lastmile_ingest_readings_stored",
    "Readings newly stored (a resent reading already stored is not counted).",
)
DISPENSES = Counter(
    "lastmile_ingest_dispenses_stored", "Pharmacy dispenses stored from MQTT feeds."
)
REJECTED = Counter(
    "lastmile_ingest_rejected",
    "Readings, dispenses and messages refused, by rejection code (each is one dead letter "
    "and one message on the gateway's or feed's errors topic).",
    ["code"],
)
BATCH_SIZE = Histogram(
    "lastmile_ingest_batch_messages",
    "MQTT messages per committed batch.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000),
)
COMMIT_DELAY = Histogram(
    "lastmile_ingest_receive_to_commit_seconds",
    "From the first-received message of a batch to the batch's commit: the longest "
    "receive-to-commit delay of any message in it (one observation per batch).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
DB_RETRIES = Counter(
    "lastmile_ingest_db_retries",
    "Batches stored again after the database (or the scorer process) went away; "
    "the batch is held unacknowledged meanwhile.",
)
SCORER_SECONDS = Histogram(
    "lastmile_ingest_scorer_seconds",
    "Time the detectors took over one batch's readings (loading the patients' "
    "monitors included), in the scorer process or the worker.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge(
    "lastmile_ingest_in_flight_messages",
    "Messages received from the broker and not yet acknowledged (queued or in a batch).",
    multiprocess_mode="livesum",
)
CONNECTED = Gauge(
    "lastmile_ingest_broker_connected",
    "1 while the worker's MQTT session is connected and subscribed, else 0.",
    multiprocess_mode="liveall",
)
SESSION_PRESENT = Gauge(
    "lastmile_ingest_broker_session_present",
    "1 if the broker still had the worker's persistent session at the last connect.",
    multiprocess_mode="liveall",
)
CONNECTS = Counter(
    "lastmile_ingest_broker_connects", "Connections the broker accepted for the worker."
)
SESSIONS_LOST = Counter(
    "lastmile_ingest_broker_sessions_lost",
    "Reconnects on which the broker no longer had the worker's session: what it accepted "
    "while the worker was away went nowhere.",
)

for _code in RejectionCode:  # every code's series exists from the start, at 0
    REJECTED.labels(_code.value)


class BatchCounts(Protocol):
    """What a committed batch stored and refused (:class:`flows.writer.BatchResult`)."""

    @property
    def stored(self) -> int: ...

    @property
    def dispenses(self) -> int: ...

    @property
    def codes(self) -> Mapping[str, int]: ...


class HasPending(Protocol):
    @property
    def pending(self) -> int: ...


def received(messages: int) -> None:
    RECEIVED.inc(messages)


def batch_committed(batch: Sequence[Received], result: BatchCounts) -> None:
    """Count a batch that committed (its messages are being acknowledged)."""
    if not batch:
        return
    BATCH_SIZE.observe(len(batch))
    first = min(message.received_at for message in batch)
    COMMIT_DELAY.observe(max((datetime.now(UTC) - first).total_seconds(), 0.0))
    STORED.inc(result.stored)
    DISPENSES.inc(result.dispenses)
    count_rejections(result.codes)


def count_rejections(codes: Mapping[str, int]) -> None:
    for code, n in codes.items():
        REJECTED.labels(code).inc(n)


def db_retry() -> None:
    DB_RETRIES.inc()


def scored(seconds: float) -> None:
    SCORER_SECONDS.observe(seconds)


def watch_in_flight(worker: HasPending) -> None:
    """Report ``worker.pending`` at each scrape (the latest worker made in this process)."""
    if multiprocess():
        return  # no callback gauges in multiprocess mode; workers serve their own port
    ref = weakref.ref(worker)

    def pending() -> float:
        live = ref()
        return float(live.pending) if live is not None else 0.0

    IN_FLIGHT.set_function(pending)


def connected(*, session_present: bool, lost: bool) -> None:
    """The broker accepted the session (``lost``: it had forgotten the earlier one)."""
    CONNECTS.inc()
    SESSION_PRESENT.set(int(session_present))
    if lost:
        SESSIONS_LOST.inc()


def subscribed() -> None:
    CONNECTED.set(1)


def disconnected() -> None:
    CONNECTED.set(0)
