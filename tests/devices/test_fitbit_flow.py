"""Fitbit end to end: connect, callback, tokens at rest, pulls through the broker, refresh.

Real database, broker and ingest worker; Fitbit is a fake HTTPS server on loopback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.vendors import run_once
from tests.conftest import RunningWorker
from tests.devices.conftest import FitbitHub
from tests.devices.fitbit_support import (
    authorize,
    connect,
    enroll,
    fitbit_readings,
    sample_user,
    status_of,
    stored,
)
from tests.support import count, wait_until

pytestmark = pytest.mark.services

EXPECTED = [
    ("body-weight", 84.6, "sensed", None),  # the Aria scale's
    ("body-weight", 85.2, "self-reported", None),  # typed in on the web
    ("heart-rate", 63.0, "sensed", None),
    ("heart-rate", 66.0, "sensed", None),
    ("oxygen-saturation", 95.4, "sensed", "average"),
    ("oxygen-saturation", 94.8, "sensed", "average"),
]


def test_connect_stores_encrypted_tokens_a_device_and_subscriptions(hub: FitbitHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    linked = connect(api, fake)
    row = conn.execute(
        "SELECT c.status, c.tokens, d.serial, d.kind, d.gateway_id FROM vendor_connections c"
        " JOIN devices d ON d.id = c.device_id WHERE c.patient_id = %s",
        (linked.patient_id,),
    ).fetchone()
    assert row is not None
    status, sealed, serial, kind, gateway = row
    assert (status, serial, kind, gateway) == (
        "connected",
        "fitbit-7QX9KZ",
        "multi",
        "gw-vendorfitbit",
    )
    (refresh_token,) = fake.refresh_tokens_of(linked.user_id)
    assert refresh_token.encode() not in bytes(sealed)
    assert b"access_token" not in bytes(sealed)
    assert {c for _, c, _ in fake.subscriptions} == {"body", "activities", "sleep"}
    shown = api.get(f"/api/v1/patients/{linked.patient_id}/fitbit").json()
    assert (shown["status"], shown["account_id"]) == ("connected", "7QX9KZ")


def test_a_state_is_single_use_and_bound_to_its_signature(hub: FitbitHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    user = fake.add_user(sample_user())
    patient_id = enroll(api)
    fake.approve_as(user.user_id)
    query = authorize(api, fake, patient_id)
    forged = {
        **query,
        "state": query["state"][:-2] + ("AA" if query["state"][-2:] != "AA" else "BB"),
    }
    assert api.get("/api/v1/fitbit/callback", params=forged).json()["code"] == "invalid_state"
    ok = api.get("/api/v1/fitbit/callback", params=query, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    again = api.get("/api/v1/fitbit/callback", params=query, follow_redirects=False)
    assert (again.status_code, again.json()["code"]) == (400, "invalid_state")
    assert count(conn, "SELECT count(*) FROM vendor_connections") == 1


def test_pull_stores_readings_with_measure_value_and_modality_and_a_repull_adds_nothing(
    hub: FitbitHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    assert run_once(conn, puller, now=datetime.now(UTC)) == 1
    assert wait_until(lambda: stored(conn, linked.patient_id) == len(EXPECTED))
    assert fitbit_readings(conn, linked.patient_id) == EXPECTED
    shown = api.get(f"/api/v1/patients/{linked.patient_id}/fitbit").json()
    assert shown["pulled_through"] is not None
    # Nothing due until the interval passed; then the same records again.
    assert run_once(conn, puller, now=datetime.now(UTC)) == 0
    before = worker.worker.stats.messages
    conn.execute("UPDATE vendor_connections SET pulled_through = NULL, next_pull_at = now()")
    assert puller.pull(conn, patient_id=linked.patient_id, now=datetime.now(UTC)).points == 6
    assert wait_until(lambda: worker.worker.stats.messages > before)
    assert stored(conn, linked.patient_id) == len(EXPECTED)
    assert count(conn, "SELECT count(*) FROM dead_letters") == 0


def test_an_expired_access_token_is_refreshed_and_the_new_pair_stored(
    hub: FitbitHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    (first,) = fake.refresh_tokens_of(linked.user_id)
    sealed_before = conn.execute("SELECT tokens FROM vendor_connections").fetchone()
    fake.expire_access_tokens()  # Fitbit says expired before the stored expiry
    result = puller.pull(conn, patient_id=linked.patient_id, now=datetime.now(UTC))
    assert result.outcome == "pulled"
    (second,) = fake.refresh_tokens_of(linked.user_id)
    assert second != first
    sealed_after = conn.execute("SELECT tokens FROM vendor_connections").fetchone()
    assert sealed_after != sealed_before
    # The stored pair is the new one: the next refresh (by expiry) uses it and works.
    later = datetime.now(UTC) + timedelta(hours=9)
    conn.execute("UPDATE vendor_connections SET next_pull_at = now()")
    assert puller.pull(conn, patient_id=linked.patient_id, now=later).outcome == "pulled"
    (third,) = fake.refresh_tokens_of(linked.user_id)
    assert third not in (first, second)
    assert wait_until(lambda: stored(conn, linked.patient_id) == len(EXPECTED))
    assert status_of(conn, linked.patient_id) == "connected"


def test_one_fitbit_account_cannot_feed_two_patients(hub: FitbitHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    first = connect(api, fake)
    second = enroll(api)
    fake.approve_as(first.user_id)
    answer = api.get("/api/v1/fitbit/callback", params=authorize(api, fake, second))
    assert (answer.status_code, answer.json()["code"]) == (409, "conflict")
    assert count(conn, "SELECT count(*) FROM vendor_connections") == 1
    assert api.get(f"/api/v1/patients/{second}/fitbit").json()["status"] == "not_connected"
