"""The push routes: the VAPID public key, and subscriptions owned by their coordinator.

The app gets a data folder of its own, so the VAPID key is made for the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.vapid import b64url_decode, ensure_vapid_keys
from api.app import create_app
from hub.settings import Settings
from tests.api_support import caller
from tests.fakes.webpush_protocol import BrowserSubscription

pytestmark = pytest.mark.services

ENDPOINT = "https://push.example.com/wpush/v2/gAAAA-abc"


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"data_dir": tmp_path}))
    with TestClient(app) as test_client:
        yield test_client


def _body(browser: BrowserSubscription) -> dict[str, Any]:
    keys = {"p256dh": browser.p256dh, "auth": browser.auth}
    return {"endpoint": browser.endpoint, "expirationTime": None, "keys": keys}


def test_vapid_public_key_is_the_stored_key_in_browser_form(
    client: TestClient, conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    alice = caller(client, conn, "alice")
    assert client.get("/api/v1/push/vapid-public-key").status_code == 401
    got = client.get("/api/v1/push/vapid-public-key", headers=alice.headers)
    assert got.status_code == 200, got.text
    key = got.json()["application_server_key"]
    assert key == ensure_vapid_keys(Settings(data_dir=tmp_path)).application_server_key
    assert len(b64url_decode(key)) == 65


def test_subscriptions_are_registered_and_deleted_by_their_owner_only(
    client: TestClient, conn: psycopg.Connection[Any]
) -> None:
    alice = caller(client, conn, "alice")
    bob = caller(client, conn, "bob")
    browser = BrowserSubscription(endpoint=ENDPOINT, application_server_key="")
    url = "/api/v1/push/subscriptions"

    made = client.post(url, json=_body(browser), headers=alice.headers)
    assert made.status_code == 201, made.text
    sub_id = made.json()["id"]
    again = client.post(url, json=_body(browser), headers=alice.headers)
    assert again.json()["id"] == sub_id
    row = conn.execute("SELECT user_id FROM push_subscriptions WHERE id = %s", (sub_id,))
    assert row.fetchone() == (alice.id,)

    assert client.delete(f"{url}/{sub_id}", headers=bob.headers).status_code == 404
    assert client.delete(f"{url}/{sub_id}", headers=alice.headers).status_code == 204
    assert client.delete(f"{url}/{sub_id}", headers=alice.headers).status_code == 404


def test_a_subscription_with_bad_keys_or_endpoint_or_no_user_is_refused(
    client: TestClient, conn: psycopg.Connection[Any], settings: Settings
) -> None:
    alice = caller(client, conn, "alice")
    browser = BrowserSubscription(endpoint=ENDPOINT, application_server_key="")
    url = "/api/v1/push/subscriptions"
    plain = {**_body(browser), "endpoint": "http://push.example.com/x"}
    short = {**_body(browser), "keys": {"p256dh": browser.p256dh, "auth": "abc"}}
    for body in (plain, short):
        refused = client.post(url, json=body, headers=alice.headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "invalid_subscription"
    assert client.post(url, json={"endpoint": ENDPOINT}, headers=alice.headers).status_code == 422
    service = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    assert client.post(url, json=_body(browser), headers=service).status_code == 403
    assert conn.execute("SELECT count(*) FROM push_subscriptions").fetchone() == (0,)
