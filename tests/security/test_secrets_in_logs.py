"""Issue #7, item 10: no secret in the logs of a scripted session.

The session provisions a gateway and rotates its password, creates a
coordinator who logs in, changes the password and logs out, tries a login
with a wrong password, publishes readings (and a bad one) through the real
ingest worker, registers a push subscription, reads the VAPID key, and
connects a Fitbit account against the fake Fitbit and pulls from it. Every
log record of the hub's loggers is formatted by the hub's own
:class:`hub.logs.JsonFormatter` (at the level the hub runs with), and the
broker's and PostgreSQL's log files are read for the same span; none may
contain any secret the session saw.

Fitbit tokens at rest are checked in
``tests/devices/test_fitbit_flow.py::test_connect_stores_encrypted_tokens_a_device_and_subscriptions``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

from alerts.vapid import b64url, ensure_vapid_keys
from devices.vendors import run_once
from hub.logs import JsonFormatter
from hub.services.mosquitto_conf import mosquitto_paths
from hub.settings import Settings
from tests.api_support import PASSWORD, login
from tests.conftest import start_worker
from tests.devices import conftest as fitbit_fixtures
from tests.devices.conftest import FitbitHub
from tests.devices.fitbit_support import connect
from tests.fakes.webpush_protocol import BrowserSubscription
from tests.proof import ProofRow
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services

# The fake Fitbit and the hub pointed at it (``settings`` overrides the root fixture here).
fake = fitbit_fixtures.fake
settings = fitbit_fixtures.settings
publisher = fitbit_fixtures.publisher
puller = fitbit_fixtures.puller
hub = fitbit_fixtures.hub

NEW_PASSWORD = "tangerine submarine 1987 ledger"


def _file_tails(config: Settings) -> dict[Path, int]:
    paths = [mosquitto_paths(config).log, config.data_dir / "log" / "postgresql.log"]
    return {p: p.stat().st_size for p in paths if p.exists()}


def _read_tails(tails: dict[Path, int]) -> str:
    out = []
    for path, start in tails.items():
        with path.open("rb") as f:
            f.seek(start)
            out.append(f.read().decode("utf-8", "replace"))
    return "\n".join(out)


def _vapid_forms(config: Settings) -> dict[str, str]:
    key = ensure_vapid_keys(config).private_key
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    body = "".join(pem.splitlines()[1:-1])
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return {"VAPID PEM": body[:48], "VAPID scalar": b64url(scalar), "VAPID hex": scalar.hex()}


def _script(fitbit: FitbitHub, config: Settings, secrets: dict[str, str]) -> None:
    api, conn = fitbit.api, fitbit.conn
    gw = provision(api, kinds=["scale"])
    secrets["gateway password"] = gw.password
    rotated = api.post(f"/api/v1/gateways/{gw.gateway_id}/password")
    assert rotated.status_code == 200, rotated.text
    secrets["rotated gateway password"] = rotated.json()["mqtt_password"]
    made = api.post(
        "/api/v1/users", json={"username": "ann", "password": PASSWORD, "role": "coordinator"}
    )
    assert made.status_code == 201, made.text
    token = login(api, "ann")
    secrets |= {"user password": PASSWORD, "bearer token": token}
    ann = {"Authorization": f"Bearer {token}"}
    changed = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=ann,
    )
    assert changed.status_code == 204, changed.text
    secrets["new user password"] = NEW_PASSWORD
    token = login(api, "ann", NEW_PASSWORD)
    secrets["second bearer token"] = token
    ann = {"Authorization": f"Bearer {token}"}
    wrong = api.post("/api/v1/auth/token", data={"username": "anne", "password": NEW_PASSWORD})
    assert wrong.status_code == 401
    key = api.get("/api/v1/push/vapid-public-key", headers=ann)
    assert key.status_code == 200, key.text
    browser = BrowserSubscription(
        endpoint="https://push.example.com/wpush/v2/secret-endpoint-7f3a",
        application_server_key=key.json()["application_server_key"],
    )
    subscription = {
        "endpoint": browser.endpoint,
        "expirationTime": None,
        "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
    }
    assert api.post("/api/v1/push/subscriptions", json=subscription, headers=ann).status_code == 201
    secrets["push auth secret"] = browser.auth
    assert api.post("/api/v1/auth/logout", headers=ann).status_code == 204
    running = start_worker(config)
    try:
        with GatewayClient(config, gw.gateway_id, secrets["rotated gateway password"]) as client:
            assert client.connected
            client.publish_all(gw.serials["scale"], [weight_point(80, now_minus(hours=1))])
            client.publish(gw.serials["scale"], b"{not json")
            assert wait_until(lambda: len(client.errors) == 1)
        linked = connect(api, fitbit.fake)
        assert run_once(conn, fitbit.puller, now=datetime.now(UTC)) == 1
        assert wait_until(
            lambda: (
                count(
                    conn, "SELECT count(*) FROM readings WHERE patient_id = %s", linked.patient_id
                )
                > 0
            )
        )
    finally:
        running.stop.set()
        running.thread.join(timeout=20)
    secrets |= {
        f"Fitbit refresh token {i}": t
        for i, t in enumerate(fitbit.fake.refresh_tokens_of(linked.user_id))
    }
    secrets |= {f"Fitbit access token {i}": t for i, t in enumerate(fitbit.fake._access)}


def test_no_secret_of_a_scripted_session_is_in_any_log(
    hub: FitbitHub,
    settings: Settings,
    conn: psycopg.Connection[Any],
    caplog: pytest.LogCaptureFixture,
    proof: ProofRow,
) -> None:
    # The hub's level; the HTTP clients' request lines are kept too (stricter than the hub).
    caplog.set_level(logging.INFO)
    tails = _file_tails(settings)
    secrets: dict[str, str] = {
        "DB password": settings.pg_password.get_secret_value(),
        "MQTT admin password": settings.mqtt_admin_password.get_secret_value(),
        "MQTT hub password": settings.mqtt_hub_password.get_secret_value(),
        "admin token": settings.admin_token.get_secret_value(),
        "Fitbit client secret": settings.fitbit.client_secret.get_secret_value(),
        "Fitbit token key": settings.fitbit.token_key.get_secret_value(),
        "Fitbit verification code": settings.fitbit.verification_code.get_secret_value(),
        **_vapid_forms(settings),
    }
    _script(hub, settings, secrets)
    formatter = JsonFormatter()
    hub_lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join(hub_lines) + "\n" + _read_tails(tails)
    found = sorted(name for name, value in secrets.items() if value in text)
    proof.load = f"scripted session: {len(hub_lines)} hub log lines + broker and PostgreSQL logs"
    proof.bad_tried = len(secrets)
    proof.bad_rejected = len(secrets) - len(found)
    assert all(len(value) >= 16 for value in secrets.values()), "every secret must be findable"
    assert len(hub_lines) > 10  # the session did log (audit lines, ingest, Fitbit)
    assert any("fitbit" in line for line in hub_lines)
    assert found == []
