"""Dispenses over MQTT (contract section 2): stored, told, deduplicated, acked after commit."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from devices.feeds import set_feed_status
from hub.settings import Settings
from ingest.dispenses import RXNORM, latest_fill_date
from ingest.models import Received
from ingest.pharmacy_csv import import_rows, read_rows
from ingest.pharmacy_mqtt import MAX_DISPENSES, parse_feed_message
from tests.conftest import RunningWorker, start_worker
from tests.support import FeedClient, count, provision_feed, wait_until
from tests.test_dispenses import dispense

pytestmark = pytest.mark.services


def _rx(value: str, **changes: Any) -> dict[str, Any]:
    return dispense(identifier=[{"system": "urn:pharmacy:test", "value": value}], **changes)


def _enroll(api: TestClient, value: str = "SIM-1") -> str:
    made = api.post(
        "/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": value}]}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_dispenses_are_stored_and_each_bad_one_is_told_on_the_feeds_errors_topic(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    _enroll(api)
    feed_id, password = provision_feed(api)
    no_supply = _rx("RX-3")
    del no_supply["daysSupply"]
    unknown_patient = _rx("RX-4", subject={"identifier": {"system": "urn:mrn", "value": "SIM-9"}})
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": unknown_patient}],
    }
    with FeedClient(settings, feed_id, password) as feed:
        assert feed.connected
        feed.send(_rx("RX-1"))  # one resource
        feed.send([_rx("RX-2"), no_supply, "not an object"])  # an array
        feed.send(bundle)
        feed.send(b"{not json")
        feed.send(_rx("RX-1"))  # sent again: stored once, and not an error
        assert wait_until(lambda: len(feed.errors) >= 3, timeout=30)
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM dispenses") == 3)
    told = {(e["dispense_id"], e["index"], e["code"]) for e in feed.errors}
    assert told == {
        (None, None, "malformed_json"),
        (None, 2, "schema_invalid"),
        ("RX-3", 1, "schema_invalid"),
    }
    assert len(feed.errors) == 3
    rows = conn.execute(
        "SELECT identifier, source, feed_id, patient_id IS NULL FROM dispenses ORDER BY identifier"
    ).fetchall()
    assert rows == [
        ("urn:pharmacy:test|RX-1", "mqtt", feed_id, False),
        ("urn:pharmacy:test|RX-2", "mqtt", feed_id, False),
        ("urn:pharmacy:test|RX-4", "mqtt", feed_id, True),  # held until SIM-9 is enrolled
    ]
    notified = "SELECT count(*) FROM dead_letters WHERE feed_id = %s AND notified_at IS NOT NULL"
    assert wait_until(lambda: count(conn, notified, feed_id) == 3)
    assert count(conn, "SELECT count(*) FROM dead_letters") == 3
    assert count(conn, "SELECT count(*) FROM pharmacy_feeds WHERE last_seen_at IS NOT NULL") == 1
    _enroll(api, "SIM-9")
    assert count(conn, "SELECT count(*) FROM dispenses WHERE patient_id IS NULL") == 0


def test_one_dispense_sent_over_mqtt_http_and_csv_is_stored_once(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    """Without a dispense identifier, the key is patient + drug code + fill date."""
    _enroll(api)
    feed_id, password = provision_feed(api)
    fill = dispense(identifier=None, whenHandedOver="2026-02-01")
    with FeedClient(settings, feed_id, password) as feed:
        feed.send(fill)
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM dispenses") == 1)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": fill}]}
    over_http = api.post(
        "/api/v1/pharmacy/dispenses",
        content=orjson.dumps(bundle),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert [e["status"] for e in over_http.json()["entries"]] == ["duplicate"]
    csv = (
        "patient_system,patient_value,drug_system,drug_code,fill_date,days_supply,quantity\n"
        "urn:mrn,SIM-1,rxnorm,1000001,2026-02-01,30,30\n"
    )
    parts = list(import_rows(conn, read_rows(io.StringIO(csv)), today=date(2026, 3, 1)))
    conn.commit()
    assert sum(p.duplicates for p in parts) == 1
    assert sum(p.stored for p in parts) == 0
    rows = conn.execute("SELECT source, code_system, code FROM dispenses").fetchall()
    assert rows == [("mqtt", RXNORM, "1000001")]


def test_a_refill_over_mqtt_resolves_the_overdue_alert(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    _enroll(api)
    feed_id, password = provision_feed(api)
    today = datetime.now(UTC).date()

    def alerts() -> list[tuple[str, str]]:
        conn.commit()  # a fresh snapshot
        return [
            (str(k), str(s))
            for k, s in conn.execute("SELECT kind, status FROM alerts ORDER BY id").fetchall()
        ]

    with FeedClient(settings, feed_id, password) as feed:
        feed.send(_rx("RX-old", whenHandedOver=(today - timedelta(days=60)).isoformat()))
        assert wait_until(lambda: alerts() == [("refill_overdue", "open")])
        feed.send(_rx("RX-new", whenHandedOver=today.isoformat()))
        assert wait_until(lambda: ("refill_overdue", "resolved") in alerts())


def test_a_disabled_feeds_dispenses_are_refused_with_a_code(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    feed_id, password = provision_feed(api)
    set_feed_status(conn, feed_id=feed_id, status="disabled")
    conn.commit()
    with FeedClient(settings, feed_id, password) as feed:
        feed.send([_rx("RX-1"), _rx("RX-2")])
        assert wait_until(lambda: len(feed.errors) >= 2, timeout=30)
    assert sorted((e["dispense_id"], e["index"], e["code"]) for e in feed.errors) == [
        ("RX-1", 0, "feed_disabled"),
        ("RX-2", 1, "feed_disabled"),
    ]
    assert count(conn, "SELECT count(*) FROM dispenses") == 0


def test_dispenses_sent_while_the_worker_is_down_are_stored_when_it_is_back(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    first = start_worker(settings)  # makes the hub's persistent session
    first.stop.set()
    first.thread.join(30)
    feed_id, password = provision_feed(api)
    with FeedClient(settings, feed_id, password) as feed:
        feed.send([_rx(f"RX-{i}") for i in range(50)])  # the broker holds them
    assert count(conn, "SELECT count(*) FROM dispenses") == 0
    again = start_worker(settings)
    try:
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM dispenses") == 50)
    finally:
        again.stop.set()
        again.thread.join(30)


def _received(payload: bytes, at: datetime | None = None) -> Received:
    return Received(
        topic="lastmile/v1/pharmacies/ph-0123456789abcdef/dispenses",
        payload=payload,
        mid=1,
        dup=False,
        received_at=at or datetime.now(UTC),
        generation=1,
    )


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (orjson.dumps([dispense()] * (MAX_DISPENSES + 1)), "payload_too_large"),
        (b" " * 2_000_001, "payload_too_large"),
        (b"42", "schema_invalid"),
        (orjson.dumps({"resourceType": "Bundle", "entry": "x"}), "schema_invalid"),
    ],
    ids=["too-many", "too-big", "a-number", "bad-bundle"],
)
def test_a_message_that_carries_no_dispenses_gets_one_rejection(payload: bytes, code: str) -> None:
    parsed, dead = parse_feed_message(
        _received(payload), "ph-0123456789abcdef", max_bytes=1_000_000
    )
    assert parsed.dispenses == ()
    assert [(d.rejection.code.value, d.rejection.index, d.feed_id) for d in dead] == [
        (code, None, "ph-0123456789abcdef")
    ]


def test_a_fill_dated_tomorrow_in_utc_is_not_in_the_future_east_of_utc() -> None:
    """At 22:00 UTC it is already the next day in Sydney; two days ahead is nowhere."""
    at = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert latest_fill_date(at) == date(2026, 11, 23)
    tomorrow = orjson.dumps(dispense(whenHandedOver="2026-11-23"))
    parsed, dead = parse_feed_message(_received(tomorrow, at), "ph-1", max_bytes=1_000_000)
    assert (len(parsed.dispenses), dead) == (1, [])
    later = orjson.dumps(dispense(whenHandedOver="2026-11-24"))
    parsed, dead = parse_feed_message(_received(later, at), "ph-1", max_bytes=1_000_000)
    assert [d.rejection.code.value for d in dead] == ["time_in_future"]
