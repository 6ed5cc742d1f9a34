"""Scheduled non-adherence checks over the real database, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.schedule import ArrivalChecks, run_adherence_checks
from tests.support import provision

pytestmark = pytest.mark.services


def _alerts(conn: psycopg.Connection[Any]) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT a.kind, count(e.id) FROM alerts a JOIN alert_evidence e ON e.alert_id = a.id"
        " GROUP BY a.kind ORDER BY a.kind"
    ).fetchall()


def test_a_silent_new_patient_raises_missed_readings_and_never_activated_once(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale", "bp_cuff"])
    enrolled = conn.execute(
        "SELECT enrolled_at FROM patients WHERE id = %s", (gw.patient_id,)
    ).fetchone()
    assert enrolled is not None
    assert run_adherence_checks(conn, now=enrolled[0] + timedelta(hours=12)) == 0
    later = enrolled[0] + timedelta(days=4)
    assert run_adherence_checks(conn, now=later) > 0
    first = _alerts(conn)
    assert {kind for kind, _ in first} == {"device_never_active", "missed_readings"}
    # the same facts an interval later record nothing new
    assert run_adherence_checks(conn, now=later + timedelta(minutes=5)) == 0
    assert _alerts(conn) == first


def test_a_gateway_offline_for_a_day_raises_an_alert_for_its_patient(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    went = conn.execute(
        "UPDATE gateways SET presence = 'offline', presence_at = now() - interval '23 hours'"
        " WHERE id = %s RETURNING presence_at",
        (gw.gateway_id,),
    ).fetchone()
    assert went is not None
    now = went[0] + timedelta(hours=23)
    run_adherence_checks(conn, now=now)
    assert "gateway_offline" not in {kind for kind, _ in _alerts(conn)}
    run_adherence_checks(conn, now=now + timedelta(hours=2))
    row = conn.execute(
        "SELECT a.patient_id::text, e.observed->>'hours_offline' FROM alerts a"
        " JOIN alert_evidence e ON e.alert_id = a.id WHERE a.kind = 'gateway_offline'"
    ).fetchone()
    assert row == (gw.patient_id, "25.0")


def test_the_check_for_some_patients_leaves_the_others_and_the_gateways_alone(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    checked, other = provision(api, kinds=["scale"]), provision(api, kinds=["scale"])
    conn.execute(
        "UPDATE gateways SET presence = 'offline', presence_at = now() - interval '3 days'"
    )
    later = datetime.now(UTC) + timedelta(days=4)
    assert run_adherence_checks(conn, now=later, patient_ids=[UUID(checked.patient_id)]) == 3
    rows = conn.execute("SELECT patient_id::text, kind FROM alerts ORDER BY kind").fetchall()
    # The weights are overdue behind an offline gateway (a device problem); no
    # device reports the blood pressure CHF also expects (missed readings).
    assert rows == [
        (checked.patient_id, "device_never_active"),
        (checked.patient_id, "device_problem"),
        (checked.patient_id, "missed_readings"),
    ]
    # The pass over everyone adds the other patient and the gateways.
    run_adherence_checks(conn, now=later)
    kinds = conn.execute(
        "SELECT kind, count(*) FROM alerts WHERE patient_id = %s GROUP BY kind ORDER BY kind",
        (other.patient_id,),
    ).fetchall()
    assert kinds == [
        ("device_never_active", 1),
        ("device_problem", 1),
        ("gateway_offline", 1),
        ("missed_readings", 1),
    ]


def test_arrival_checks_are_due_once_per_interval_per_patient() -> None:
    clock = [100.0]
    arrival = ArrivalChecks(interval_s=300, clock=lambda: clock[0])
    a, b = UUID(int=1), UUID(int=2)
    assert arrival.due([a, a, b]) == [a, b]
    arrival.checked([a])
    clock[0] += 299
    assert arrival.due([a, b]) == [b]  # b was due but not marked: its batch rolled back
    clock[0] += 1
    assert arrival.due([a]) == [a]
