"""A detector that raises costs one quarantined message, never the batch or the worker."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.batches import BatchStore, InFlight
from flows.worker import WorkerStats
from hub.alerting import AlertKind, Closure, Detection, Severity, StreamReading
from hub.domain import Measure
from hub.settings import Settings
from hub.topics import dispenses_topic, errors_topic, readings_topic
from ingest.models import Received
from ingest.validation import Validator
from streaming.scorer import LocalScorer
from streaming.service import Enrolment, MonitorCache
from tests.conftest import start_worker
from tests.support import (
    GatewayClient,
    count,
    now_minus,
    provision,
    provision_feed,
    wait_until,
    weight_point,
)
from tests.test_dispenses import dispense

pytestmark = pytest.mark.services

#: The weight that makes the broken detector raise.
POISON = 66.6


class BrokenMonitor:
    """Raises on one value, finds nothing otherwise."""

    def process(self, reading: StreamReading) -> list[Detection]:
        if reading.value == POISON:
            raise ZeroDivisionError("a detector bug")
        return []

    @property
    def open_kinds(self) -> Mapping[AlertKind, Severity]:
        return {}

    def resolve(self, kind: AlertKind) -> None:
        pass

    def pop_closures(self) -> list[Closure]:
        return []


def broken(patient_id: UUID, enrolment: Enrolment) -> BrokenMonitor:
    return BrokenMonitor()


def test_the_reading_a_detector_fails_on_is_quarantined_and_the_rest_stored(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    running = start_worker(
        settings, scorer=LocalScorer(MonitorCache(factory=broken, code_version=1))
    )
    try:
        gw = provision(api, kinds=["scale"])
        weights = [80.0, 80.5, POISON, 81.0]
        payloads = [weight_point(kg, now_minus(hours=10 - i)) for i, kg in enumerate(weights)]
        with GatewayClient(settings, gw.gateway_id, gw.password) as client:
            client.publish_all(gw.serials["scale"], payloads)
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM dead_letters") == 1)
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 3)
            # The worker goes on: a later reading is stored too.
            client.publish_all(gw.serials["scale"], [weight_point(81.2, now_minus(hours=1))])
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 4)
        assert conn.execute("SELECT code FROM dead_letters").fetchall() == [("internal_error",)]
        stored = {r[0] for r in conn.execute("SELECT value FROM readings").fetchall()}
        assert stored == {80.0, 80.5, 81.0, 81.2}
        assert running.thread.is_alive()
    finally:
        running.stop.set()
        running.thread.join(timeout=20)


class FlaggingMonitor:
    """Raises on :data:`POISON`; a weight of 90 kg or more is a weight gain, less ends it."""

    def __init__(self) -> None:
        self._open = False
        self._closures: list[Closure] = []

    def process(self, reading: StreamReading) -> list[Detection]:
        if reading.value == POISON:
            raise ZeroDivisionError("a detector bug")
        if reading.value < 90:
            if self._open:
                self._open = False
                self._closures.append(
                    Closure(reading.patient_id, AlertKind.WEIGHT_GAIN, reading.measured_at,
                            "test:flag", "back under 90 kg")
                )  # fmt: skip
            return []
        self._open = True
        detection = Detection(
            reading.patient_id, AlertKind.WEIGHT_GAIN, Severity.HIGH, "test:flag",
            Measure.BODY_WEIGHT, {"kg": reading.value}, {"threshold_kg": 90.0},
            reading.measured_at, reading.measured_at, "90 kg or more",
        )  # fmt: skip
        return [detection]

    @property
    def open_kinds(self) -> Mapping[AlertKind, Severity]:
        return {AlertKind.WEIGHT_GAIN: Severity.HIGH} if self._open else {}

    def resolve(self, kind: AlertKind) -> None:
        self._open = False

    def pop_closures(self) -> list[Closure]:
        closures, self._closures = self._closures, []
        return closures


def flagging(patient_id: UUID, enrolment: Enrolment) -> FlaggingMonitor:
    return FlaggingMonitor()


def test_a_batch_recovered_message_by_message_counts_all_it_stored(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    """What the worker reports for a recovered batch is what the database holds."""
    gw = provision(api, kinds=["scale"])
    feed_id, _ = provision_feed(api)
    scale = readings_topic(gw.gateway_id, gw.serials["scale"])
    now = datetime.now(UTC)
    payloads: list[tuple[str, object]] = [
        (scale, weight_point(80.0, now_minus(hours=5))),
        (scale, weight_point(91.0, now_minus(hours=4))),  # opens an alert
        (scale, weight_point(POISON, now_minus(hours=3))),  # fails the batch: internal_error
        (scale, weight_point(92.0, now_minus(hours=2))),  # evidence on the open alert
        (scale, weight_point(80.0, now_minus(hours=1))),  # resolves it
        (dispenses_topic(feed_id), dispense()),  # held: its patient is not enrolled
        (scale, b"{not json"),
        (errors_topic(gw.gateway_id), b"{}"),  # not a topic the hub reads
    ]
    batch = [
        Received(topic, p if isinstance(p, bytes) else orjson.dumps(p), mid=i, dup=False,
                 received_at=now, generation=1)
        for i, (topic, p) in enumerate(payloads, start=1)
    ]  # fmt: skip
    scorer = LocalScorer(MonitorCache(factory=flagging, code_version=1))
    store = BatchStore(settings, validator=Validator.from_settings(settings), scorer=scorer)
    stop = threading.Event()
    try:  # as the worker does it
        launched = store.launch(batch, store.parse(batch), stop)
        result = store.land(launched, stop) if isinstance(launched, InFlight) else launched
    finally:
        store.close()
    assert result is not None
    stats = WorkerStats()
    stats.add(result)

    codes = dict(conn.execute("SELECT code, count(*) FROM dead_letters GROUP BY code").fetchall())
    assert codes == {"internal_error": 1, "malformed_json": 1, "topic_invalid": 1}
    assert result.codes == codes
    assert result.rejected == stats.rejected == sum(codes.values())
    assert result.messages == stats.messages == len(batch)
    assert result.stored == stats.stored == count(conn, "SELECT count(*) FROM readings") == 4
    assert result.dispenses == stats.dispenses == count(conn, "SELECT count(*) FROM dispenses") == 1
    assert result.alerts_opened == count(conn, "SELECT count(*) FROM alerts") == 1
    resolved = "SELECT count(*) FROM alerts WHERE status = 'resolved'"
    assert result.alerts_closed == count(conn, resolved) == 1
    assert result.evidence == count(conn, "SELECT count(*) FROM alert_evidence") == 2
