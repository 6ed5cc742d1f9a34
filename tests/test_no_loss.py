"""Readings the broker accepted survive SIGKILLs of the ingest worker."""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from ingest.session import spawn_ingest
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = [pytest.mark.services, pytest.mark.slow]

GATEWAYS = 4
PER_GATEWAY = 5_000


def test_20000_readings_survive_two_sigkills(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    log = tmp_path / "ingest.log"
    gateways = [provision(api, kinds=["scale"]) for _ in range(GATEWAYS)]
    worker = spawn_ingest(settings, log=log)
    try:
        start = now_minus(days=40)
        # The worker's persistent session exists once a first reading is stored;
        # until it has subscribed, a publish reaches no one, so resend (the
        # same reading, stored once).
        sentinel = weight_point(50.0, start - timedelta(days=1))
        with GatewayClient(settings, gateways[0].gateway_id, gateways[0].password) as client:
            for _ in range(30):
                client.publish_all(gateways[0].serials["scale"], [sentinel])
                if wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1, timeout=1):
                    break
        assert count(conn, "SELECT count(*) FROM readings") == 1, log.read_text()

        published = [0] * GATEWAYS
        failures: list[BaseException] = []

        def publish(i: int) -> None:
            gw = gateways[i]
            try:
                with GatewayClient(settings, gw.gateway_id, gw.password) as client:
                    for chunk in range(0, PER_GATEWAY, 250):
                        points = [
                            weight_point(60 + (n % 400) / 10, start + timedelta(minutes=n))
                            for n in range(chunk, chunk + 250)
                        ]
                        client.publish_all(gw.serials["scale"], points)
                        published[i] += len(points)
            except (OSError, AssertionError, ValueError) as exc:  # reported by the main thread
                failures.append(exc)

        threads = [threading.Thread(target=publish, args=(i,)) for i in range(GATEWAYS)]
        for thread in threads:
            thread.start()
        total = GATEWAYS * PER_GATEWAY
        for fraction in (0.3, 0.65):
            target = fraction * total
            assert wait_until(lambda: sum(published) >= target, timeout=120)  # noqa: B023
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            time.sleep(0.5)
            worker = spawn_ingest(settings, log=log)
        for thread in threads:
            thread.join(timeout=180)
        assert not failures, failures
        assert sum(published) == total
        assert wait_until(
            lambda: count(conn, "SELECT count(*) FROM readings") == total + 1, timeout=120
        ), count(conn, "SELECT count(*) FROM readings")
        assert count(conn, "SELECT count(DISTINCT header_id) FROM readings") == total + 1
        assert count(conn, "SELECT count(*) FROM dead_letters") == 0
    finally:
        worker.terminate()
        worker.wait(timeout=20)
