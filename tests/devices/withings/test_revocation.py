"""Withings revocation against a fake Withings that checks signatures and nonces as documented.

Disconnecting revokes the grant at Withings (``/v2/oauth2`` ``action=revoke``,
signed with a nonce from ``/v2/signature``); the user unlinking the app in
Withings, or Withings refusing a refresh, ends the connection as ``revoked``;
an error on Withings' side never does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from devices.withings import client
from devices.withings.exceptions import WithingsUnavailableError
from devices.withings.plugin import notify_token
from hub.settings import Settings
from tests.devices.withings.support import (
    CLIENT_ID,
    USERID,
    WithingsHub,
    connect,
    link,
    status_of,
)
from tests.fakes.tls import client_context
from tests.fakes.withings_api import FakeWithings
from tests.support import count

pytestmark = pytest.mark.services


def _signed_calls(fake: FakeWithings) -> list[tuple[str, str, int]]:
    return [
        (s.path, s.action, s.status)
        for s in fake.requests
        if s.path == "/v2/signature" or (s.path == "/v2/oauth2" and s.action == "revoke")
    ]


def _tokens_kept(hub: WithingsHub) -> int:
    return count(hub.conn, "SELECT count(*) FROM vendor_connections WHERE tokens IS NOT NULL")


def test_disconnecting_revokes_the_grant_with_a_signed_call(hub: WithingsHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    patient_id = connect(api, fake)
    assert fake.subscriptions
    gone = api.delete(f"/api/v1/patients/{patient_id}/withings")
    assert gone.status_code == 204, gone.text
    assert _signed_calls(fake) == [
        ("/v2/signature", "getnonce", 0),
        ("/v2/oauth2", "revoke", 0),
    ]
    (revoke,) = [s for s in fake.requests if s.action == "revoke"]
    assert (revoke.form["userid"], revoke.form["client_id"]) == (str(USERID), CLIENT_ID)
    assert "client_secret" not in revoke.form  # a signed call sends no secret
    assert fake.revocations == [USERID]
    # Withings ended the grant's tokens and subscriptions; the hub forgot its tokens.
    assert (fake.refresh_tokens_of(USERID), fake.subscriptions) == ([], set())
    assert not [s for s in fake.requests if s.path == "/notify" and s.action == "revoke"]
    assert status_of(conn, patient_id)[:3] == ("disconnected", None, "disconnected")
    assert _tokens_kept(hub) == 0
    # The patient can connect the account again afterwards.
    link(api, fake, patient_id, USERID)
    assert status_of(conn, patient_id)[0] == "connected"
    assert fake.refresh_tokens_of(USERID)


def test_a_nonce_is_good_once_and_bad_signatures_and_stale_timestamps_are_refused(
    hub: WithingsHub, settings: Settings
) -> None:
    connect(hub.api, hub.fake)
    config, fake = settings.withings, hub.fake
    secret = config.client_secret.get_secret_value()

    def post(path: str, form: dict[str, str]) -> Any:
        with httpx.Client(verify=client_context(fake.ca_file)) as browser:
            answer = browser.post(f"{fake.origin}{path}", data=form)
        assert answer.status_code == 200  # Withings says how it went in the JSON
        return answer.json()

    def revoke(nonce: str, key: str) -> Any:
        signed = {"action": "revoke", "client_id": CLIENT_ID, "nonce": nonce}
        form = {**signed, "signature": client.signature(key, signed), "userid": str(USERID)}
        return post("/v2/oauth2", form)

    now = datetime.now(UTC)
    used = client.nonce(config, now=now)
    assert revoke(used, "not the client secret") == {
        "status": 503,
        "error": "Invalid Params: invalid signature",
    }
    # That refused call used the nonce up: right signature or not, it is not taken again.
    assert revoke(used, secret) == {"status": 503, "error": "Invalid Params: invalid nonce"}
    assert fake.revocations == []
    fresh = client.nonce(config, now=now)
    assert revoke(fresh, secret) == {"status": 0, "body": {}}
    assert revoke(fresh, secret) == {"status": 503, "error": "Invalid Params: invalid nonce"}
    assert fake.revocations == [USERID]

    def getnonce(stamp: datetime, key: str) -> Any:
        signed = {
            "action": "getnonce",
            "client_id": CLIENT_ID,
            "timestamp": str(int(stamp.timestamp())),
        }
        return post("/v2/signature", {**signed, "signature": client.signature(key, signed)})

    assert getnonce(now - timedelta(hours=1), secret) == {
        "status": 503,
        "error": "Invalid Params: invalid timestamp",
    }
    assert getnonce(now, "not the client secret")["status"] == 503
    assert getnonce(now, secret)["status"] == 0
    wrong = config.model_copy(update={"client_secret": SecretStr("not the client secret")})
    with pytest.raises(WithingsUnavailableError, match="status 503"):
        client.nonce(wrong, now=now)


def test_a_grant_already_gone_at_withings_counts_as_revoked(hub: WithingsHub) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    patient_id = connect(api, fake)
    fake.revoke_user(USERID)  # the patient unlinked the app in their Withings account
    gone = api.delete(f"/api/v1/patients/{patient_id}/withings")
    assert gone.status_code == 204, gone.text
    assert _signed_calls(fake) == [
        ("/v2/signature", "getnonce", 0),
        ("/v2/oauth2", "revoke", 503),  # nothing left to revoke
    ]
    assert fake.revocations == []
    assert status_of(conn, patient_id)[0] == "disconnected"
    assert _tokens_kept(hub) == 0


def test_a_refused_nonce_leaves_the_connection_as_it_was(
    hub: WithingsHub, settings: Settings
) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    patient_id = connect(api, fake)
    withings = settings.withings.model_copy(
        update={"client_secret": SecretStr("a client secret Withings does not know")}
    )
    misconfigured = settings.model_copy(update={"withings": withings})
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    with TestClient(create_app(misconfigured), headers=headers) as other:
        refused = other.delete(f"/api/v1/patients/{patient_id}/withings")
    assert (refused.status_code, refused.json()["code"]) == (502, "withings_unavailable")
    assert _signed_calls(fake) == [("/v2/signature", "getnonce", 503)]
    assert status_of(conn, patient_id)[0] == "connected"
    assert _tokens_kept(hub) == 1
    assert api.delete(f"/api/v1/patients/{patient_id}/withings").status_code == 204
    assert fake.revocations == [USERID]


def test_an_error_on_withings_side_during_a_refresh_does_not_revoke(hub: WithingsHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    fake.fail_token_calls(2552)  # "An error occurred" in Withings' status table
    later = datetime.now(UTC) + timedelta(hours=4)  # past the access token's expiry
    assert puller.pull(conn, patient_id=patient_id, now=later).outcome == "failed"
    assert status_of(conn, patient_id)[0] == "connected"
    assert status_of(conn, patient_id)[2] == "WithingsUnavailableError"
    assert _tokens_kept(hub) == 1
    conn.execute("UPDATE vendor_connections SET paused_until = NULL")
    assert puller.pull(conn, patient_id=patient_id, now=later).outcome == "pulled"


@pytest.mark.parametrize(
    ("action", "status"), [("unlink", "revoked"), ("delete", "revoked"), ("update", "connected")]
)
def test_a_profile_event_ends_the_connection_only_when_access_is_gone(
    hub: WithingsHub, settings: Settings, action: str, status: str
) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    patient_id = connect(api, fake)
    # appli 46: the user's profile; its events carry an action and no span of data.
    body = urlencode({"userid": str(USERID), "appli": "46", "action": action})
    answer = api.post(
        "/api/v1/withings/webhook",
        params={"token": notify_token(settings.withings)},
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    expected = "user_revoked" if status == "revoked" else None
    assert status_of(conn, patient_id)[0::2] == (status, expected)
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0
