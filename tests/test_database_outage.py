"""With the database away the worker holds its batch unacked, within the broker's
in-flight limit, and stores everything once PostgreSQL is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from hub.db import connect
from hub.services import pg_stop_immediate, pg_up
from hub.services.mosquitto_conf import MAX_INFLIGHT_MESSAGES
from hub.settings import Settings
from tests.conftest import RunningWorker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = [pytest.mark.services, pytest.mark.slow]

READINGS = 8_000


def test_database_outage_loses_nothing_and_memory_stays_bounded(
    settings: Settings, api: TestClient, worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    start = now_minus(days=20)
    first = weight_point(70.0, start - timedelta(days=1))
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials["scale"], [first])
        with connect(settings) as conn:
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1)
        retries_before = REGISTRY.get_sample_value("lastmile_ingest_db_retries_total") or 0
        pg_stop_immediate(settings)
        try:
            points = [
                weight_point(60 + (n % 300) / 10, start + timedelta(minutes=n))
                for n in range(READINGS)
            ]
            client.publish_all(gw.serials["scale"], points, timeout=120)
            # The broker holds what is beyond its in-flight window for this
            # session; the worker never holds more than that window.
            peak = shown = 0.0
            for _ in range(30):
                peak = max(peak, worker.worker.pending)
                # The in-flight gauge reads the worker at each scrape (this process's registry).
                shown = max(
                    shown, REGISTRY.get_sample_value("lastmile_ingest_in_flight_messages") or 0
                )
                if worker.worker.stats.db_retries >= 3:
                    break
                wait_until(lambda: False, timeout=0.2)
            assert worker.worker.stats.db_retries >= 1
            assert 0 < peak <= MAX_INFLIGHT_MESSAGES
            assert 0 < shown <= MAX_INFLIGHT_MESSAGES
        finally:
            pg_up(settings)
    with connect(settings) as conn:
        assert wait_until(
            lambda: count(conn, "SELECT count(*) FROM readings") == READINGS + 1, timeout=60
        ), (count(conn, "SELECT count(*) FROM readings"), worker.worker.stats)
        assert count(conn, "SELECT count(*) FROM dead_letters") == 0
    retries = (REGISTRY.get_sample_value("lastmile_ingest_db_retries_total") or 0) - retries_before
    assert retries == worker.worker.stats.db_retries
