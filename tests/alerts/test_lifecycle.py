"""The alert life cycle over the API and with an injected clock: ack, resolve, snooze,
notes, escalation of unacknowledged critical alerts, and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.lifecycle import acknowledge, run_escalations
from alerts.notifier import check_escalations
from alerts.push import add_subscription
from alerts.service import record_detection
from api.accounts import Role
from hub.alerting import AlertKind, Severity
from hub.settings import Settings
from tests.api_support import caller, detection, enroll, make_user
from tests.fakes.webpush_protocol import BrowserSubscription

pytestmark = pytest.mark.services

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
SPO2 = AlertKind.SPO2_LOW


def _subscribe(conn: psycopg.Connection[Any], user: UUID, name: str) -> int:
    browser = BrowserSubscription(f"https://push.example.com/wpush/v2/{name}", "")
    return add_subscription(
        conn,
        user_id=user,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=T0,
    )


def _pushes(conn: psycopg.Connection[Any], alert_id: int) -> list[tuple[str, str, datetime]]:
    """(user, urgency, due) of every push queued for the alert."""
    return conn.execute(
        "SELECT u.username, o.urgency, o.next_attempt_at FROM push_outbox o"
        " JOIN push_subscriptions s ON s.id = o.subscription_id JOIN users u ON u.id = s.user_id"
        " WHERE o.alert_id = %s ORDER BY o.id",
        (alert_id,),
    ).fetchall()


def _events(conn: psycopg.Connection[Any], alert_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT event FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,)
    ).fetchall()
    return [r[0] for r in rows]


def test_acknowledge_resolve_and_the_history_says_who_and_when(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    alert = record_detection(conn, detection=detection(patient), now=T0)
    conn.commit()
    url = f"/api/v1/alerts/{alert.alert_id}"
    queue = api.get("/api/v1/alerts", headers=ann.headers).json()
    assert [(a["id"], a["status"], a["evidence_count"]) for a in queue] == [
        (alert.alert_id, "open", 1)
    ]
    acked = api.post(f"{url}/ack", json={"note": "calling her now"}, headers=ann.headers)
    assert (acked.status_code, acked.json()["status"]) == (200, "acknowledged")
    again = api.post(f"{url}/ack", headers=ann.headers)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    api.post(f"{url}/notes", json={"note": "diuretic dose doubled by GP"}, headers=ann.headers)
    done = api.post(f"{url}/resolve", json={"note": "weight back down"}, headers=ann.headers)
    assert done.json()["status"] == "resolved"
    assert api.post(f"{url}/resolve", headers=ann.headers).status_code == 409
    detail = api.get(url, headers=ann.headers).json()
    assert [e["reason"] for e in detail["evidence"]] == [detection(patient).reason]
    history = [(h["event"], h["actor"], h["to_status"], h["note"]) for h in detail["history"]]
    assert history == [
        ("opened", None, "open", None),
        ("acknowledged", "ann", "acknowledged", "calling her now"),
        ("note", "ann", "acknowledged", "diuretic dose doubled by GP"),
        ("resolved", "ann", "resolved", "weight back down"),
    ]
    assert api.get("/api/v1/alerts", headers=ann.headers).json() == []  # unresolved only
    everything = api.get("/api/v1/alerts?status=all", headers=ann.headers).json()
    assert [a["id"] for a in everything] == [alert.alert_id]


def test_snoozed_alerts_go_last_and_critical_ones_cannot_be_snoozed(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    first, second = enroll(api, ann, "SIM-A"), enroll(api, ann, "SIM-B")
    now = datetime.now(UTC)
    a = record_detection(conn, detection=detection(first), now=now - timedelta(hours=2))
    b = record_detection(conn, detection=detection(second), now=now - timedelta(hours=1))
    crit = record_detection(conn, detection=detection(second, Severity.CRITICAL, SPO2), now=now)
    conn.commit()
    order = [x["id"] for x in api.get("/api/v1/alerts", headers=ann.headers).json()]
    assert order == [crit.alert_id, a.alert_id, b.alert_id]  # critical, then oldest first
    snoozed = api.post(
        f"/api/v1/alerts/{a.alert_id}/snooze", json={"minutes": 60}, headers=ann.headers
    )
    assert snoozed.status_code == 200
    assert snoozed.json()["snoozed_until"] is not None
    order = [x["id"] for x in api.get("/api/v1/alerts", headers=ann.headers).json()]
    assert order == [crit.alert_id, b.alert_id, a.alert_id]
    refused = api.post(
        f"/api/v1/alerts/{crit.alert_id}/snooze", json={"minutes": 60}, headers=ann.headers
    )
    assert refused.status_code == 409


def test_an_unacknowledged_critical_alert_escalates_to_the_supervisor_until_acknowledged(
    conn: psycopg.Connection[Any], api: TestClient
) -> None:
    sue = make_user(conn, "sue", Role.SUPERVISOR)
    ann = caller(api, conn, "ann", supervisor=sue)
    patient = enroll(api, ann, "SIM-A")
    _subscribe(conn, ann.id, "ann-phone")
    _subscribe(conn, sue, "sue-phone")
    alert = record_detection(conn, detection=detection(patient, Severity.CRITICAL, SPO2), now=T0)
    conn.commit()
    assert [p[:2] for p in _pushes(conn, alert.alert_id)] == [("ann", "high")]
    after = timedelta(minutes=15)
    assert run_escalations(conn, now=T0 + timedelta(minutes=14), after=after) == 0
    assert run_escalations(conn, now=T0 + timedelta(minutes=15), after=after) == 1
    assert sorted(p[0] for p in _pushes(conn, alert.alert_id)[1:]) == ["ann", "sue"]
    assert run_escalations(conn, now=T0 + timedelta(minutes=20), after=after) == 0
    assert run_escalations(conn, now=T0 + timedelta(minutes=30), after=after) == 1  # again
    level = conn.execute("SELECT escalation_level FROM alerts").fetchone()
    assert level == (2,)
    acknowledge(conn, alert_id=alert.alert_id, actor=ann.id, now=T0 + timedelta(minutes=31))
    assert run_escalations(conn, now=T0 + timedelta(hours=2), after=after) == 0
    assert _events(conn, alert.alert_id) == ["opened", "escalated", "escalated", "acknowledged"]


def test_with_no_supervisor_an_escalation_reaches_the_admins(
    conn: psycopg.Connection[Any], api: TestClient
) -> None:
    admin = make_user(conn, "ada", Role.ADMIN)
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    _subscribe(conn, admin, "ada-laptop")
    alert = record_detection(conn, detection=detection(patient, Severity.CRITICAL, SPO2), now=T0)
    run_escalations(conn, now=T0 + timedelta(minutes=15), after=timedelta(minutes=15))
    assert [p[0] for p in _pushes(conn, alert.alert_id)] == ["ada"]


def test_a_higher_severity_reopens_an_acknowledged_alert_and_pushes_again(
    conn: psycopg.Connection[Any], api: TestClient
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    _subscribe(conn, ann.id, "ann-phone")
    first = record_detection(conn, detection=detection(patient), now=T0)
    acknowledge(conn, alert_id=first.alert_id, actor=ann.id, now=T0 + timedelta(minutes=5))
    raised = record_detection(
        conn, detection=detection(patient, Severity.HIGH), now=T0 + timedelta(hours=1)
    )
    assert (raised.alert_id, raised.escalated) == (first.alert_id, True)
    status = conn.execute("SELECT status, severity FROM alerts").fetchone()
    assert status == ("open", "high")
    assert len(_pushes(conn, first.alert_id)) == 2
    assert _events(conn, first.alert_id) == ["opened", "acknowledged", "severity_raised"]


@pytest.mark.parametrize(
    ("at", "severity", "due"),
    [
        # Quiet 20:00-08:00 in New York (UTC-5 in January).
        (
            datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
            Severity.HIGH,
            datetime(2026, 1, 15, 13, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 15, 2, 0, tzinfo=UTC),
            Severity.MEDIUM,
            datetime(2026, 1, 15, 13, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 15, 14, 0, tzinfo=UTC),
            Severity.HIGH,
            datetime(2026, 1, 15, 14, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
            Severity.CRITICAL,
            datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
        ),
        # 21:00 local is before midnight: quiet until 08:00 the next day.
        (
            datetime(2026, 1, 16, 2, 0, tzinfo=UTC),
            Severity.LOW,
            datetime(2026, 1, 16, 13, 0, tzinfo=UTC),
        ),
    ],
    ids=["night-high", "night-medium", "day", "night-critical", "evening"],
)
def test_quiet_hours_hold_pushes_that_are_not_critical(
    conn: psycopg.Connection[Any], api: TestClient, at: datetime, severity: Severity, due: datetime
) -> None:
    ann = caller(api, conn, "ann")
    conn.execute(
        "UPDATE users SET quiet_start = '20:00', quiet_end = '08:00',"
        " timezone = 'America/New_York' WHERE id = %s",
        (ann.id,),
    )
    patient = enroll(api, ann, "SIM-A")
    _subscribe(conn, ann.id, "ann-phone")
    alert = record_detection(conn, detection=detection(patient, severity), now=at)
    [(_, _, when)] = _pushes(conn, alert.alert_id)
    assert when == due


def test_the_notifier_escalates_in_a_transaction_of_its_own(
    conn: psycopg.Connection[Any], api: TestClient, settings: Settings
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    record_detection(conn, detection=detection(patient, Severity.CRITICAL, SPO2), now=T0)
    conn.commit()
    assert check_escalations(settings, now=T0 + timedelta(minutes=16)) == 1
    conn.rollback()  # a fresh snapshot: the notifier committed
    assert conn.execute("SELECT escalation_level FROM alerts").fetchone() == (1,)
