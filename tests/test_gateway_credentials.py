"""Gateway credentials through the admin API, on the real broker: rotate, disable, enable."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.services.hub_user import login_works
from hub.settings import Settings
from tests.conftest import start_worker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services


def _login(settings: Settings, gateway_id: str, password: str) -> bool:
    return login_works(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        username=gateway_id,
        password=password,
        client_id=gateway_id,
    )


def _audit_actions(conn: psycopg.Connection[Any], gateway_id: str) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT action, outcome FROM audit_log WHERE action LIKE %s ORDER BY id",
        (f"gateway.% {gateway_id}",),
    ).fetchall()


def test_a_rotated_password_ends_the_session_refuses_the_old_and_accepts_the_new(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    running = start_worker(settings)
    try:
        with GatewayClient(settings, gw.gateway_id, gw.password) as old_session:
            assert old_session.connected
            rotated = api.post(f"/api/v1/gateways/{gw.gateway_id}/password")
            assert rotated.status_code == 200, rotated.text
            new_password = rotated.json()["mqtt_password"]
            assert new_password != gw.password
            # The broker ended the session that logged in with the old password ...
            assert old_session._client is not None
            assert wait_until(lambda: not old_session._client.is_connected(), timeout=10)  # type: ignore[union-attr]
        # ... and refuses the old password from now on.
        assert not _login(settings, gw.gateway_id, gw.password)
        assert _login(settings, gw.gateway_id, new_password)
        with GatewayClient(settings, gw.gateway_id, new_password) as client:
            client.publish_all(serial, [weight_point(80, now_minus(hours=1))])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1)
    finally:
        running.stop.set()
        running.thread.join(timeout=20)
    assert _audit_actions(conn, gw.gateway_id) == [
        (f"gateway.rotate_password {gw.gateway_id}", 200)
    ]


def test_a_disabled_gateway_cannot_connect_and_its_queued_readings_are_refused(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    # The hub's session exists (subscribed), then the worker stops: what the
    # gateway sends now waits at the broker.
    running = start_worker(settings)
    running.stop.set()
    running.thread.join(timeout=20)
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, [weight_point(80, now_minus(hours=1 + i)) for i in range(3)])
        disabled = api.post(f"/api/v1/gateways/{gw.gateway_id}/disable")
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["status"] == "disabled"
        assert client._client is not None
        assert wait_until(lambda: not client._client.is_connected(), timeout=10)  # type: ignore[union-attr]
    assert not _login(settings, gw.gateway_id, gw.password)

    running = start_worker(settings)
    try:
        dead = "SELECT count(*) FROM dead_letters WHERE code = 'device_disabled'"
        assert wait_until(lambda: count(conn, dead) == 3)
        assert count(conn, "SELECT count(*) FROM readings") == 0

        enabled = api.post(f"/api/v1/gateways/{gw.gateway_id}/enable")
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["status"] == "active"
        assert [d["serial"] for d in enabled.json()["devices"]] == [serial]
        assert _login(settings, gw.gateway_id, gw.password)
        with GatewayClient(settings, gw.gateway_id, gw.password) as client:
            client.publish_all(serial, [weight_point(81, now_minus(minutes=5))])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1)
    finally:
        running.stop.set()
        running.thread.join(timeout=20)
    detail = api.get(f"/api/v1/gateways/{gw.gateway_id}").json()
    assert detail["status"] == "active"
    assert detail["last_seen_at"] is not None
    assert _audit_actions(conn, gw.gateway_id) == [
        (f"gateway.disable {gw.gateway_id}", 200),
        (f"gateway.enable {gw.gateway_id}", 200),
        (f"gateway.read {gw.gateway_id}", 200),
    ]


def test_credential_routes_answer_404_for_an_unknown_gateway(api: TestClient) -> None:
    for path in ("password", "disable", "enable"):
        got = api.post(f"/api/v1/gateways/gw-0000000000000000/{path}")
        assert (got.status_code, got.json()["code"]) == (404, "not_found"), path
