"""Issue #7, item 9: the API without valid credentials, and logins as an attacker would try them.

- Every ``/api/v1`` operation in the app's own OpenAPI document answers 401
  without a token, except the login and the vendor clouds' callbacks and webhooks.
- Forged, mangled, expired and revoked tokens get 401; a valid one works.
- Failed logins are limited per user name and per client address (429),
  and a blocked attempt issues no token, even with the right password.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from tests.api_support import PASSWORD, caller, login, make_user
from tests.proof import ProofRow
from tests.support import count

pytestmark = pytest.mark.services

PATIENTS = "/api/v1/patients"
LOGIN = "/api/v1/auth/token"
#: Reached without a token by design: the login itself, and each vendor's redirects and webhook.
OPEN = frozenset(
    {LOGIN}
    | {
        f"/api/v1/{vendor}/{route}"
        for vendor in ("fitbit", "withings")
        for route in ("callback", "webhook")
    }
)


def _path_value(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    if schema.get("type") == "integer":
        return "1"
    if schema.get("format") == "uuid" or parameter["name"].endswith("patient_id"):
        return str(uuid.uuid4())
    return "gw-abcdef0123"


def _operations(api: TestClient) -> list[tuple[str, str]]:
    """(method, concrete path) of every /api/v1 operation that needs a token."""
    found = []
    for template, item in api.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if not template.startswith("/api/v1/") or template in OPEN:
            continue
        for method, operation in item.items():
            path = template
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    path = path.replace(f"{{{parameter['name']}}}", _path_value(parameter))
            found.append((method.upper(), path))
    return found


def test_no_operation_answers_without_a_token(
    api: TestClient, conn: psycopg.Connection[Any], proof: ProofRow
) -> None:
    anonymous = TestClient(api.app)  # the same app, no Authorization header
    operations = _operations(api)
    answers = {
        f"{method} {path}": anonymous.request(method, path, json={}).status_code
        for method, path in operations
    }
    refused = sum(1 for status in answers.values() if status == 401)
    proof.load = f"{len(operations)} operations from the OpenAPI document, no token"
    proof.bad_tried, proof.bad_rejected = len(operations), refused
    assert len(operations) >= 30
    assert {k: v for k, v in answers.items() if v != 401} == {}
    # Each refusal is in the audit log as anonymous, and none read a patient.
    audited = count(
        conn, "SELECT count(*) FROM audit_log WHERE actor = 'anonymous' AND outcome = 401"
    )
    assert audited == len(operations)


def test_forged_mangled_expired_and_revoked_tokens_get_401(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings, proof: ProofRow
) -> None:
    ann = caller(api, conn, "ann")
    anonymous = TestClient(api.app)
    admin = settings.admin_token.get_secret_value()
    bad: dict[str, str] = {
        "random": secrets.token_urlsafe(32),
        "admin token, last character changed": admin[:-1] + ("A" if admin[-1] != "A" else "B"),
        "admin token, truncated": admin[:-4],
        "a user's token with a suffix": ann.token + "x",
        "a user's token, upper-cased": ann.token.upper(),
        "empty": "",
    }
    expired = login(api, "ann")
    conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE true")
    revoked = login(api, "ann")  # issued after the update: not expired
    assert anonymous.post("/api/v1/auth/logout", headers=_bearer(revoked)).status_code == 204
    bad |= {"expired": expired, "revoked by logout": revoked, "first token, expired": ann.token}
    still = login(api, "ann")
    assert anonymous.get(PATIENTS, headers=_bearer(still)).status_code == 200
    changed = anonymous.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase 42"},
        headers=_bearer(still),
    )
    assert changed.status_code == 204, changed.text
    bad["revoked by a password change"] = still
    answers = {name: anonymous.get(PATIENTS, headers=_bearer(token)) for name, token in bad.items()}
    basic = anonymous.get(PATIENTS, headers={"Authorization": f"Basic {admin}"})
    answers["admin token as Basic credentials"] = basic
    proof.load = f"{len(answers)} kinds of bad credentials on GET {PATIENTS}"
    proof.bad_tried = len(answers)
    proof.bad_rejected = sum(1 for got in answers.values() if got.status_code == 401)
    assert {name: got.status_code for name, got in answers.items() if got.status_code != 401} == {}
    assert all(got.headers["www-authenticate"] == "Bearer" for got in answers.values())
    assert all("identifiers" not in got.text for got in answers.values())


def test_logins_are_limited_per_user_name_and_per_client_address(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings, proof: ProofRow
) -> None:
    make_user(conn, "ann")
    make_user(conn, "bob")
    spray = TestClient(api.app, client=("198.51.100.7", 40000))
    per_client = settings.login_max_failures_per_client
    # Password spraying from one address over many user names: blocked by address.
    sprayed = [
        spray.post(LOGIN, data={"username": f"user{i}", "password": "Winter2026!"}).status_code
        for i in range(per_client)
    ]
    blocked_address = spray.post(LOGIN, data={"username": "bob", "password": PASSWORD})
    # Guessing one account's password from many addresses: blocked by user name.
    guesses = [
        TestClient(api.app, client=(f"203.0.113.{i + 1}", 40000))
        .post(LOGIN, data={"username": "ann", "password": f"guess {i}"})
        .status_code
        for i in range(settings.login_max_failures)
    ]
    fresh = TestClient(api.app, client=("192.0.2.99", 40000))
    blocked_user = fresh.post(LOGIN, data={"username": "ann", "password": PASSWORD})
    tokens_before = count(conn, "SELECT count(*) FROM api_tokens")
    assert login(fresh, "bob")  # another account from another address is not affected
    tried = len(sprayed) + len(guesses) + 2
    refused = sprayed + guesses + [blocked_address.status_code, blocked_user.status_code]
    proof.load = f"{per_client} sprayed logins from one address; {len(guesses)} guesses at one user"
    proof.bad_tried = tried
    proof.bad_rejected = sum(1 for status in refused if status in (401, 429))
    assert set(sprayed) == {401}
    assert set(guesses) == {401}
    assert (blocked_address.status_code, blocked_address.json()["code"]) == (
        429,
        "too_many_attempts",
    )
    assert (blocked_user.status_code, blocked_user.json()["code"]) == (429, "too_many_attempts")
    assert tokens_before == 0  # the right password, once blocked, issued nothing
    assert count(conn, "SELECT count(*) FROM api_tokens") == 1
    assert (
        count(conn, "SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome <> 200")
        == tried
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
