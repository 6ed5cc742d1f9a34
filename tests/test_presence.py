"""Gateway presence from the Last Will, device activation, latest measurement."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from hub.settings import Settings
from hub.topics import status_topic
from streaming.adherence_facts import refresh_latest
from tests.conftest import RunningWorker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services


def _presence(conn: psycopg.Connection[Any], gateway_id: str) -> object:
    row = conn.execute("SELECT presence FROM gateways WHERE id = %s", (gateway_id,)).fetchone()
    return row[0] if row else None


def test_online_then_last_will_marks_the_gateway_offline(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    connected = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=gw.gateway_id)
    client.username_pw_set(gw.gateway_id, gw.password)
    client.will_set(status_topic(gw.gateway_id), b"offline", qos=1, retain=True)
    client.on_connect = lambda c, u, f, rc, p: connected.set()
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=5)
    client.loop_start()
    assert connected.wait(5)
    client.publish(status_topic(gw.gateway_id), b"online", qos=1, retain=True).wait_for_publish(5)
    assert wait_until(lambda: _presence(conn, gw.gateway_id) == "online")
    # Drop the connection without DISCONNECT: the broker publishes the will.
    client.loop_stop()
    sock = client.socket()
    assert sock is not None
    sock.close()
    assert wait_until(lambda: _presence(conn, gw.gateway_id) == "offline", timeout=20)


def test_first_reading_activates_the_device_and_latest_measure_follows(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    assert conn.execute(
        "SELECT status, activated_at FROM devices WHERE serial = %s", (serial,)
    ).fetchone() == ("registered", None)
    newest, older = now_minus(hours=2), now_minus(days=2)
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, [weight_point(80, newest)])
        client.publish_all(serial, [weight_point(79, older)])  # late, out of order
    assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 2)
    status, activated_at = conn.execute(
        "SELECT status, activated_at FROM devices WHERE serial = %s", (serial,)
    ).fetchone() or (None, None)
    assert status == "active"
    assert activated_at is not None
    refresh_latest(conn, now=newest)
    latest = conn.execute(
        "SELECT measure, last_measured_at FROM measure_latest WHERE patient_id = %s",
        (gw.patient_id,),
    ).fetchall()
    assert latest == [("body-weight", newest)]


def test_a_bad_status_payload_is_rejected_with_a_code(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish("", b"sleeping", topic=status_topic(gw.gateway_id)).wait_for_publish(5)
        assert wait_until(lambda: len(client.errors) == 1)
    assert client.errors[0]["code"] == "schema_invalid"
    assert _presence(conn, gw.gateway_id) is None
