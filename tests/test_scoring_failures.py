"""A detector that raises costs one quarantined message, never the batch or the worker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.alerting import AlertKind, Closure, Detection, Severity, StreamReading
from hub.settings import Settings
from streaming.scorer import LocalScorer
from streaming.service import Enrolment, MonitorCache
from tests.conftest import start_worker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

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
