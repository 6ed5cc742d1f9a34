"""Fitbit's rate limit, and the end of a connection (the hub revokes; the patient revokes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.vendors import run_once
from tests.conftest import RunningWorker
from tests.devices.conftest import FitbitHub
from tests.devices.fitbit_support import connect, status_of, stored
from tests.support import count, wait_until

pytestmark = pytest.mark.services


def test_a_429_pauses_the_account_until_the_reset_and_nothing_is_asked_earlier(
    hub: FitbitHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    now = datetime.now(UTC)
    fake.rate_limit(retry_after=120, reset=150)
    assert puller.pull(conn, patient_id=linked.patient_id, now=now).outcome == "paused"
    row = conn.execute("SELECT paused_until, pulled_through FROM vendor_connections").fetchone()
    assert row is not None
    assert row[0] == now + timedelta(seconds=150)  # the later of the two hints
    assert row[1] is None  # the cursor did not move
    asked = len(fake.api_requests())
    assert run_once(conn, puller, now=now + timedelta(seconds=149)) == 0
    assert len(fake.api_requests()) == asked
    shown = api.get(f"/api/v1/patients/{linked.patient_id}/fitbit").json()
    assert shown["last_error"] == "rate_limited"
    assert run_once(conn, puller, now=now + timedelta(seconds=151)) == 1
    assert len(fake.api_requests()) > asked
    assert wait_until(lambda: stored(conn, linked.patient_id) == 6)


def test_disconnecting_revokes_at_fitbit_and_stops_the_pulls(hub: FitbitHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    gone = api.delete(f"/api/v1/patients/{linked.patient_id}/fitbit")
    assert gone.status_code == 204, gone.text
    assert fake.revocations == [linked.user_id]
    assert fake.refresh_tokens_of(linked.user_id) == []
    assert status_of(conn, linked.patient_id) == "disconnected"
    assert count(conn, "SELECT count(*) FROM vendor_connections WHERE tokens IS NOT NULL") == 0
    asked = len(fake.api_requests())
    assert run_once(conn, puller, now=datetime.now(UTC)) == 0
    assert len(fake.api_requests()) == asked
    shown = api.get(f"/api/v1/patients/{linked.patient_id}/fitbit").json()
    assert shown["status"] == "disconnected"
    # Idempotent: nothing connected any more is still a 204.
    assert api.delete(f"/api/v1/patients/{linked.patient_id}/fitbit").status_code == 204


def test_a_refresh_refused_with_invalid_grant_marks_the_connection_revoked(hub: FitbitHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    fake.revoke_user(linked.user_id)  # the patient removed the app in the Fitbit app
    later = datetime.now(UTC) + timedelta(hours=9)  # the access token has expired by then
    assert puller.pull(conn, patient_id=linked.patient_id, now=later).outcome == "revoked"
    assert status_of(conn, linked.patient_id) == "revoked"
    assert count(conn, "SELECT count(*) FROM vendor_connections WHERE tokens IS NOT NULL") == 0
    asked = len(fake.requests)
    assert run_once(conn, puller, now=later + timedelta(hours=2)) == 0
    assert len(fake.requests) == asked
    shown = api.get(f"/api/v1/patients/{linked.patient_id}/fitbit").json()
    assert (shown["status"], shown["last_error"]) == ("revoked", "invalid_grant")


def test_an_api_call_refused_as_invalid_token_marks_the_connection_revoked(hub: FitbitHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    fake.revoke_user(linked.user_id)
    assert puller.pull(conn, patient_id=linked.patient_id, now=datetime.now(UTC)).outcome == (
        "revoked"
    )
    assert status_of(conn, linked.patient_id) == "revoked"
