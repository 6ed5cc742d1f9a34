"""Fitbit's subscription API: the verification endpoint and signed notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from devices.vendors import run_once
from tests.conftest import RunningWorker
from tests.devices.conftest import CLIENT_SECRET, VERIFY_CODE, FitbitHub
from tests.devices.fitbit_support import connect, fitbit_readings, local_today, status_of, stored
from tests.fakes.fitbit_api import sign
from tests.support import count, wait_until

pytestmark = pytest.mark.services

WEBHOOK = "/api/v1/fitbit/webhook"


def _notification(user_id: str, day: str, collection: str = "body") -> bytes:
    return orjson.dumps(
        [
            {
                "collectionType": collection,
                "date": day,
                "ownerId": user_id,
                "ownerType": "user",
                "subscriptionId": f"lastmile-1-{collection}",
            }
        ]
    )


def test_the_verification_code_is_checked(api: TestClient) -> None:
    assert api.get(WEBHOOK, params={"verify": VERIFY_CODE}).status_code == 204
    assert api.get(WEBHOOK, params={"verify": VERIFY_CODE[:-1] + "x"}).status_code == 404
    assert api.get(WEBHOOK).status_code == 404


def test_a_bad_signature_answers_404_and_queues_nothing(hub: FitbitHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    linked = connect(api, fake)
    body = _notification(linked.user_id, local_today().isoformat())
    for signature in (sign(body, "another secret"), "", sign(body + b" ", CLIENT_SECRET)):
        answer = api.post(WEBHOOK, content=body, headers={"X-Fitbit-Signature": signature})
        assert answer.status_code == 404
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0


def test_a_notification_queues_a_pull_of_that_account_and_day(
    hub: FitbitHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    linked = connect(api, fake)
    conn.execute("UPDATE vendor_connections SET next_pull_at = now() + interval '1 hour'")
    day = (local_today() - timedelta(days=1)).isoformat()
    body = _notification(linked.user_id, day)
    answer = api.post(
        WEBHOOK, content=body, headers={"X-Fitbit-Signature": sign(body, CLIENT_SECRET)}
    )
    assert answer.status_code == 204, answer.text
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 1
    assert run_once(conn, puller, now=datetime.now(UTC)) == 1
    paths = [seen.path for seen in fake.api_requests()]
    assert f"/1/user/-/body/log/weight/date/{day}/{day}.json" in paths
    assert wait_until(lambda: stored(conn, linked.patient_id) == 3)
    assert fitbit_readings(conn, linked.patient_id) == [
        ("body-weight", 85.2, "self-reported", None),
        ("heart-rate", 66.0, "sensed", None),
        ("oxygen-saturation", 94.8, "sensed", "average"),
    ]
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0


def test_a_user_revoked_access_notification_ends_the_connection(hub: FitbitHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    linked = connect(api, fake)
    body = _notification(linked.user_id, local_today().isoformat(), "userRevokedAccess")
    answer = api.post(
        WEBHOOK, content=body, headers={"X-Fitbit-Signature": sign(body, CLIENT_SECRET)}
    )
    assert answer.status_code == 204
    assert status_of(conn, linked.patient_id) == "revoked"
