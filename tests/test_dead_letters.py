"""Dead letters: one per rejected point, the point's own JSON, once per delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.domain import Rejection, RejectionCode
from hub.settings import Settings
from hub.topics import readings_topic
from ingest.dead_letters import record_dead_letters
from ingest.models import DeadLetter, Received
from tests.conftest import RunningWorker, start_worker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services


def test_a_full_array_from_an_unknown_device_gets_500_rejections(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    start = now_minus(days=30)
    points = [weight_point(70 + i / 100, start + timedelta(minutes=i)) for i in range(500)]
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all("NOT-REGISTERED", [points])
        assert wait_until(lambda: len(client.errors) == 500, timeout=30)
    assert {e["code"] for e in client.errors} == {"unknown_device"}
    assert {e["header_id"] for e in client.errors} == {p["header"]["id"] for p in points}
    assert count(conn, "SELECT count(*) FROM dead_letters") == 500
    kept = conn.execute("SELECT payload FROM dead_letters WHERE item_index = 123").fetchone()
    assert kept is not None
    assert orjson.loads(kept[0]) == points[123]


def test_a_redelivered_rejection_is_recorded_once(conn: psycopg.Connection[Any]) -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    topic = readings_topic("gw-0123456789abcdef", "SC-1")

    def letter(*, dup: bool) -> DeadLetter:
        message = Received(topic, b"{bad", mid=7, dup=dup, received_at=at, generation=1)
        rejection = Rejection(RejectionCode.MALFORMED_JSON, "not JSON")
        return DeadLetter(message, "gw-0123456789abcdef", "SC-1", rejection)

    assert len(record_dead_letters(conn, [letter(dup=False)])) == 1
    assert record_dead_letters(conn, [letter(dup=True)]) == []
    # the gateway sending the same bad message again is a new delivery
    assert len(record_dead_letters(conn, [letter(dup=False)])) == 1
    assert count(conn, "SELECT count(*) FROM dead_letters") == 2


def test_a_rejection_committed_before_a_crash_is_sent_after_the_restart(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    at = datetime.now(UTC)
    message = Received(
        readings_topic(gw.gateway_id, "SC-x"),
        b"{bad",
        mid=3,
        dup=False,
        received_at=at,
        generation=1,
    )
    rejection = Rejection(RejectionCode.MALFORMED_JSON, "not JSON")
    # committed by a worker that died before publishing it
    record_dead_letters(conn, [DeadLetter(message, gw.gateway_id, "SC-x", rejection)])
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        running = start_worker(settings)
        try:
            assert wait_until(lambda: len(client.errors) == 1)
            assert wait_until(
                lambda: (
                    count(conn, "SELECT count(*) FROM dead_letters WHERE notified_at IS NULL") == 0
                )
            )
        finally:
            running.stop.set()
            running.thread.join(timeout=20)
    assert client.errors[0]["code"] == "malformed_json"
