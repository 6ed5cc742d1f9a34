"""The audit log: one row per request and auth event, append-only, tamper-evident."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from alerts.service import record_detection
from api import audit
from api.accounts import Role
from hub.db import APP_ROLE, app_conninfo
from hub.settings import Settings
from lastmile.cli import main
from tests.api_support import PASSWORD, caller, detection, enroll

pytestmark = pytest.mark.services


def _rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    conn.commit()  # a fresh snapshot
    return conn.execute(
        "SELECT actor, actor_role, action, patient_id, outcome, request_id FROM audit_log"
        " ORDER BY id"
    ).fetchall()


def test_a_scripted_session_leaves_one_row_per_request_and_auth_event(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")  # one login
    bob = caller(api, conn, "bob")  # another
    bobs = enroll(api, bob, "SIM-B")
    before = len(_rows(conn))
    wrong = api.post("/api/v1/auth/token", data={"username": "ann", "password": "nope nope"})
    anns = enroll(api, ann, "SIM-A")
    read = api.get(f"/api/v1/patients/{anns}", headers={**ann.headers, "X-Request-ID": "req-42"})
    api.get(f"/api/v1/patients/{anns}/readings?measure=body-weight", headers=ann.headers)
    denied = api.get(f"/api/v1/patients/{bobs}/adherence", headers=ann.headers)
    anonymous = api.get(f"/api/v1/patients/{anns}", headers={"Authorization": ""})
    api.post("/api/v1/auth/logout", headers=ann.headers)
    assert (wrong.status_code, read.status_code, denied.status_code, anonymous.status_code) == (
        401, 200, 404, 401,
    )  # fmt: skip
    assert read.headers["X-Request-ID"] == "req-42"
    rows = _rows(conn)[before:]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("ann", None, "auth.login", None, 401),
        ("ann", "coordinator", "POST /api/v1/patients", None, 201),
        ("ann", "coordinator", "GET /api/v1/patients/{patient_id}", anns, 200),
        ("ann", "coordinator", "GET /api/v1/patients/{patient_id}/readings", anns, 200),
        ("ann", "coordinator", "GET /api/v1/patients/{patient_id}/adherence", bobs, 404),
        ("anonymous", None, "GET /api/v1/patients/{patient_id}", anns, 401),
        ("ann", "coordinator", "auth.logout", None, 204),
    ]
    assert rows[2][5] == "req-42"
    assert len({r[5] for r in rows}) == len(rows)  # a request id each


def test_programme_time_and_timer_requests_are_audited_with_their_patient(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    bob = caller(api, conn, "bob")
    anns, bobs = enroll(api, ann, "SIM-A"), enroll(api, bob, "SIM-B")
    alert = record_detection(conn, detection=detection(anns), now=datetime.now(UTC)).alert_id
    conn.commit()
    before = len(_rows(conn))
    # Begun yesterday, so the minute logged below (ending now) is inside it at 00:00 UTC too.
    begun = str(datetime.now(UTC).date() - timedelta(days=1))
    base = f"/api/v1/patients/{anns}"
    made = api.post(
        f"{base}/programs",
        json={"kind": "RPM", "started_on": begun, "consent": {"on": begun, "method": "verbal"},
              "ordering": {"name": "Dr. Ada Example", "npi": "1234567893"}},
        headers=ann.headers,
    )  # fmt: skip
    work = {"activity": "call", "interactive": True}
    entry = api.post(
        f"{base}/time-entries", json={**work, "minutes": 1}, headers=ann.headers
    ).json()
    api.post(
        f"{base}/time-entries/{entry['id']}/corrections",
        json={"reason": "education", "activity": "education"},
        headers=ann.headers,
    )
    api.post(f"{base}/timer/start", headers=ann.headers)
    api.delete(f"{base}/timer", headers=ann.headers)
    api.get(f"{base}/care-progress", headers=ann.headers)
    api.get(f"{base}/month-time", headers=ann.headers)
    api.post(
        f"/api/v1/alerts/{alert}/ack", json={"time": {**work, "minutes": 2}}, headers=ann.headers
    )
    denied = api.get(f"/api/v1/patients/{bobs}/time-entries", headers=ann.headers)
    assert (made.status_code, denied.status_code) == (201, 404)
    rows = [(r[0], r[2], r[3], r[4]) for r in _rows(conn)[before:]]
    p = "/api/v1/patients/{patient_id}"
    assert rows == [
        ("ann", f"POST {p}/programs", anns, 201),
        ("ann", f"POST {p}/time-entries", anns, 201),
        ("ann", f"POST {p}/time-entries/{{entry_id}}/corrections", anns, 201),
        ("ann", f"POST {p}/timer/start", anns, 200),
        ("ann", f"DELETE {p}/timer", anns, 204),
        ("ann", f"GET {p}/care-progress", anns, 200),
        ("ann", f"GET {p}/month-time", anns, 200),
        ("ann", "POST /api/v1/alerts/{alert_id}/ack", anns, 200),
        ("ann", f"GET {p}/time-entries", bobs, 404),
    ]


def test_a_programmes_record_its_corrections_and_their_own_rows_are_audited(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings
) -> None:
    """Recording a contact attempt, reading the record and correcting it are audited with
    the patient; each correction (or withdrawal) adds a row naming the records, written in
    its own transaction before the request's row."""
    ann = caller(api, conn, "ann")
    bob = caller(api, conn, "bob")
    anns, bobs = enroll(api, ann, "SIM-A"), enroll(api, bob, "SIM-B")
    now = datetime.now(UTC)
    before = len(_rows(conn))
    base = f"/api/v1/patients/{anns}/programs"
    made = api.post(
        base,
        json={"kind": "TCM", "ordering": {"name": "Dr. Ada Example", "npi": "1234567893"},
              "tcm": {"discharged_on": str(now.date()), "setting": "inpatient"}},
        headers=ann.headers,
    ).json()  # fmt: skip
    program = f"{base}/{made['id']}"
    tried = api.post(
        f"{program}/contact-attempts",
        json={"at": now.isoformat(), "method": "telephone"},
        headers=ann.headers,
    ).json()["contact_attempts"][0]["id"]
    api.get(f"{program}/records", headers=ann.headers)
    fixed_ = api.post(
        f"{program}/records/{tried}/corrections",
        json={"reason": "it was a portal message", "method": "electronic"},
        headers=ann.headers,
    )
    assert fixed_.status_code == 201, fixed_.text
    fixed = fixed_.json()["id"]
    gone = api.post(
        f"{program}/records/{fixed}/corrections",
        json={"reason": "recorded on the wrong patient", "withdraw": True},
        headers=ann.headers,
    ).json()["id"]
    denied = api.get(f"/api/v1/patients/{bobs}/programs/{made['id']}/records", headers=ann.headers)
    assert denied.status_code == 404
    rows = [(r[0], r[2], r[3], r[4]) for r in _rows(conn)[before:]]
    p = "/api/v1/patients/{patient_id}/programs"
    corrections = f"POST {p}/{{program_id}}/records/{{record_id}}/corrections"
    assert rows == [
        ("ann", f"POST {p}", anns, 201),
        ("ann", f"POST {p}/{{program_id}}/contact-attempts", anns, 201),
        ("ann", f"GET {p}/{{program_id}}/records", anns, 200),
        ("ann", f"programs.correct contact_attempt record:{tried} -> record:{fixed}", anns, 201),
        ("ann", corrections, anns, 201),
        ("ann", f"programs.withdraw contact_attempt record:{fixed} -> record:{gone}", anns, 201),
        ("ann", corrections, anns, 201),
        ("ann", f"GET {p}/{{program_id}}/records", bobs, 404),
    ]
    assert _verify(settings)[0] == 0


CHANGES = ("UPDATE audit_log SET outcome = 200", "DELETE FROM audit_log", "TRUNCATE audit_log")


def test_the_apis_database_role_cannot_change_or_remove_audit_rows(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings
) -> None:
    caller(api, conn, "ann")
    with psycopg.connect(app_conninfo(settings)) as app:
        assert app.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        assert app.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)
        for statement in CHANGES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                app.execute(statement)
            app.rollback()
    # The API's own requests run as that role.
    pool = api.app.state.pool  # type: ignore[attr-defined]
    with pool.connection() as pooled:
        assert pooled.execute("SELECT current_user").fetchone() == (APP_ROLE,)


def test_not_even_the_owner_changes_audit_rows_with_the_triggers_on(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    caller(api, conn, "ann")
    for statement in CHANGES:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        conn.rollback()
    assert len(_rows(conn)) == 1


def _tamper(conn: psycopg.Connection[Any], sql: str) -> None:
    """Change the log behind the triggers' back, as only a database superuser could."""
    conn.execute("SET session_replication_role = replica")
    conn.execute(sql)
    conn.execute("SET session_replication_role = origin")
    conn.commit()


def _verify(settings: Settings) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify"], env=settings.subprocess_env())
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ("UPDATE audit_log SET outcome = 500 WHERE id = {id}", "content"),
        ("UPDATE audit_log SET actor = 'mallory' WHERE id = {id}", "content"),
        ("DELETE FROM audit_log WHERE id = {id}", "link"),
    ],
    ids=["outcome", "actor", "removed"],
)
def test_a_changed_or_removed_row_breaks_the_chain(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings, change: str, kind: str
) -> None:
    ann = caller(api, conn, "ann")
    for _ in range(3):
        api.get("/api/v1/auth/me", headers=ann.headers)
    assert audit.verify(conn).intact
    code, output = _verify(settings)
    assert code == 0, output
    assert "4 rows" in output
    assert "audit log intact" in output
    ids = [r[0] for r in conn.execute("SELECT id FROM audit_log ORDER BY id").fetchall()]
    target = ids[2]
    _tamper(conn, change.format(id=target))
    report = audit.verify(conn)
    expected = target if kind == "content" else ids[3]
    assert report.breaks[:1] == [(expected, kind)]
    code, output = _verify(settings)
    assert code == 1
    assert f"row {expected}" in output


def test_failed_logins_are_counted_from_the_log(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    caller(api, conn, "ann")
    for password in ("bad one", "bad two", PASSWORD):
        api.post("/api/v1/auth/token", data={"username": "ann", "password": password})
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert audit.failed_logins(conn, username="ann", client="testclient", since=since) == (2, 2)


def test_a_user_name_with_a_nul_character_is_refused_and_still_audited(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    answer = api.post("/api/v1/auth/token", data={"username": "ann\x00", "password": "x" * 12})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_value"
    row = conn.execute(
        "SELECT actor, outcome FROM audit_log WHERE action = 'auth.login'"
    ).fetchone()
    assert row == ("ann\ufffd", 400)


def test_billing_requests_are_audited_and_a_sign_off_puts_its_hash_in_the_chain(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings
) -> None:
    sue = caller(api, conn, "sue", Role.SUPERVISOR)
    before = len(_rows(conn))
    read = api.get("/api/v1/billing?month=2026-03", headers=sue.headers)
    signed = api.post("/api/v1/billing/2026-03/sign-off", headers=sue.headers)
    again = api.post("/api/v1/billing/2026-03/sign-off", headers=sue.headers)
    assert (read.status_code, signed.status_code, again.status_code) == (200, 201, 409)
    digest = hashlib.sha256(read.content).hexdigest()
    assert signed.json()["sha256"] == digest
    rows = [(r[0], r[1], r[2], r[3], r[4]) for r in _rows(conn)[before:]]
    assert rows == [
        ("sue", "supervisor", "GET /api/v1/billing", None, 200),
        # Written with the sign-off, in its transaction; then the request's own row.
        ("sue", "supervisor", f"billing.sign_off 2026-03 supervisor:{sue.id} sha256:{digest}",
         None, 201),
        ("sue", "supervisor", "POST /api/v1/billing/{month}/sign-off", None, 201),
        ("sue", "supervisor", "POST /api/v1/billing/{month}/sign-off", None, 409),
    ]  # fmt: skip
    assert _verify(settings)[0] == 0
