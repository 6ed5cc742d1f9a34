"""Coordinators: login, tokens that end, a rate-limited login, and panels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.accounts import Role
from tests.api_support import PASSWORD, caller, enroll, login, make_user

pytestmark = pytest.mark.services

ME = "/api/v1/auth/me"


def test_a_coordinator_logs_in_and_the_token_says_who_they_are(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    make_user(conn, "ann")
    got = api.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
    assert got.status_code == 200
    body = got.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 8 * 3600)
    me = api.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert (me.json()["username"], me.json()["role"]) == ("ann", "coordinator")
    stored = conn.execute("SELECT password_hash FROM users WHERE username = 'ann'").fetchone()
    assert stored is not None
    assert stored[0].startswith("$argon2id$")
    assert PASSWORD not in stored[0]


@pytest.mark.parametrize(
    ("username", "password"), [("ann", "wrong password!"), ("nobody", PASSWORD)]
)
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    api: TestClient, conn: psycopg.Connection[Any], username: str, password: str
) -> None:
    make_user(conn, "ann")
    got = api.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert (got.status_code, got.json()["code"]) == (401, "invalid_credentials")


def test_logout_revokes_the_token(api: TestClient, conn: psycopg.Connection[Any]) -> None:
    ann = caller(api, conn, "ann")
    other = login(api, "ann")
    assert api.post("/api/v1/auth/logout", headers=ann.headers).status_code == 204
    after = api.get(ME, headers=ann.headers)
    assert (after.status_code, after.json()["code"]) == (401, "invalid_token")
    # Only that token: a second session goes on.
    assert api.get(ME, headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_a_password_change_revokes_every_token(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    other = login(api, "ann")
    wrong = api.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a new long password"},
        headers=ann.headers,
    )
    assert wrong.status_code == 401
    short = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=ann.headers,
    )
    assert short.status_code == 422
    changed = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        headers=ann.headers,
    )
    assert changed.status_code == 204
    for token in (ann.token, other):
        assert api.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    old = api.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
    assert old.status_code == 401
    assert login(api, "ann", "a new long password")


@pytest.mark.parametrize(
    "aged",
    [
        "last_used_at = last_used_at - interval '31 minutes'",  # idle too long
        "expires_at = now() - interval '1 second'",  # expired
    ],
    ids=["idle", "expired"],
)
def test_an_idle_or_expired_token_is_refused(
    api: TestClient, conn: psycopg.Connection[Any], aged: str
) -> None:
    ann = caller(api, conn, "ann")
    assert api.get(ME, headers=ann.headers).status_code == 200
    conn.execute(f"UPDATE api_tokens SET {aged}")  # noqa: S608 (test-only SQL)
    conn.commit()
    assert api.get(ME, headers=ann.headers).status_code == 401


def test_a_used_token_is_not_idle(api: TestClient, conn: psycopg.Connection[Any]) -> None:
    ann = caller(api, conn, "ann")
    conn.execute("UPDATE api_tokens SET last_used_at = last_used_at - interval '29 minutes'")
    conn.commit()
    assert api.get(ME, headers=ann.headers).status_code == 200  # and that use counts
    conn.execute("UPDATE api_tokens SET last_used_at = last_used_at - interval '29 minutes'")
    conn.commit()
    assert api.get(ME, headers=ann.headers).status_code == 200


def test_logins_are_rate_limited_per_user_name(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    make_user(conn, "ann")
    make_user(conn, "bob")
    for _ in range(5):
        bad = api.post("/api/v1/auth/token", data={"username": "ann", "password": "guess guess"})
        assert bad.status_code == 401
    blocked = api.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_attempts")
    assert int(blocked.headers["Retry-After"]) == 15 * 60
    assert login(api, "bob")  # another user is not locked out
    conn.execute(
        "SET session_replication_role = replica"  # the test moves time: age the failures
    )
    conn.execute("UPDATE audit_log SET at = at - %s", (timedelta(minutes=16),))
    conn.execute("SET session_replication_role = origin")
    conn.commit()
    assert login(api, "ann")


def test_a_disabled_user_cannot_log_in_nor_use_a_token(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    conn.execute("UPDATE users SET disabled = true WHERE username = 'ann'")
    conn.commit()
    assert api.get(ME, headers=ann.headers).status_code == 401
    again = api.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
    assert again.status_code == 401


def test_a_coordinator_sees_only_their_panel_and_a_supervisor_their_team(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    sue = caller(api, conn, "sue", Role.SUPERVISOR)
    sam = caller(api, conn, "sam", Role.SUPERVISOR)
    ann = caller(api, conn, "ann", supervisor=sue.id)
    bob = caller(api, conn, "bob", supervisor=sam.id)
    ann_patient = enroll(api, ann, "SIM-A")
    bob_patient = enroll(api, bob, "SIM-B")

    def sees(who: Any) -> set[str]:
        listed = api.get("/api/v1/patients", headers=who.headers)
        assert listed.status_code == 200
        return {p["identifiers"][0]["value"] for p in listed.json()}

    assert sees(ann) == {"SIM-A"}
    assert sees(bob) == {"SIM-B"}
    assert sees(sue) == {"SIM-A"}
    assert sees(sam) == {"SIM-B"}
    for path in ("", "/readings?measure=body-weight", "/adherence"):
        mine = api.get(f"/api/v1/patients/{ann_patient}{path}", headers=ann.headers)
        assert mine.status_code == 200, (path, mine.text)
        theirs = api.get(f"/api/v1/patients/{bob_patient}{path}", headers=ann.headers)
        assert (theirs.status_code, theirs.json()["code"]) == (404, "not_found")
        team = api.get(f"/api/v1/patients/{ann_patient}{path}", headers=sue.headers)
        assert team.status_code == 200
    # An admin (here the service token) sees everyone.
    assert {p["id"] for p in api.get("/api/v1/patients").json()} == {
        str(ann_patient),
        str(bob_patient),
    }


def test_a_supervisor_reassigns_a_patient_and_a_coordinator_may_not(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    sue = caller(api, conn, "sue", Role.SUPERVISOR)
    ann = caller(api, conn, "ann", supervisor=sue.id)
    cat = caller(api, conn, "cat", supervisor=sue.id)
    patient = enroll(api, ann, "SIM-A")
    url = f"/api/v1/patients/{patient}/coordinators"
    refused = api.put(url, json={"coordinators": [str(cat.id)]}, headers=ann.headers)
    assert refused.status_code == 403
    moved = api.put(url, json={"coordinators": [str(cat.id)]}, headers=sue.headers)
    assert moved.status_code == 200
    assert moved.json()["coordinators"] == [str(cat.id)]
    assert api.get(f"/api/v1/patients/{patient}", headers=ann.headers).status_code == 404
    assert api.get(f"/api/v1/patients/{patient}", headers=cat.headers).status_code == 200


def test_only_admins_provision_and_manage_users(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    for path in ("/api/v1/gateways", "/api/v1/pharmacy/feeds"):
        got = api.post(path, json={}, headers=ann.headers)
        assert (got.status_code, got.json()["code"]) == (403, "forbidden")
    new = {"username": "dan", "password": "a long enough password", "role": "coordinator"}
    assert api.post("/api/v1/users", json=new, headers=ann.headers).status_code == 403
    made = api.post("/api/v1/users", json=new)  # the admin token
    assert made.status_code == 201
    assert login(api, "dan", "a long enough password")
    assert api.post("/api/v1/users", json=new).status_code == 409
