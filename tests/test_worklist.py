"""GET /api/v1/worklist on the real database: order, flags, reasons, and who sees whom.

Patients and alerts are made up; alerts are written as rows so that their
ages are exact. The formula itself is tested in tests/alerts/test_priority.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.worklist import high_risk_cutoff
from api.accounts import Role
from api.schemas_worklist import WorklistAlerts, WorklistOut, WorklistRowOut
from hub.discharge_risk import high_risk_cutoff as reference_cutoff
from tests.api_support import Caller, caller, enroll

pytestmark = pytest.mark.services

WORKLIST = "/api/v1/worklist"


def lace_inputs(total: int) -> dict[str, Any]:
    """LACE inputs (no HOSPITAL ones) adding up to ``total`` (0..13): risk total/19."""
    days = min(total, 3)
    rest = total - days
    acute = rest >= 3
    rest -= 3 * acute
    charlson = min(rest, 3)
    return {
        "length_of_stay_days": days,
        "acute_admission": acute,
        "charlson_index": charlson,
        "ed_visits_6m": rest - charlson,
    }


def enroll_with(api: TestClient, who: Caller, mrn: str, **body: Any) -> UUID:
    made = api.post(
        "/api/v1/patients",
        json={"identifiers": [{"system": "urn:mrn", "value": mrn}], **body},
        headers=who.headers,
    )
    assert made.status_code == 201, made.text
    return UUID(made.json()["id"])


def add_alert(
    conn: psycopg.Connection[Any],
    patient_id: UUID,
    severity: str,
    *,
    hours: float,
    kind: str = "weight_gain",
    reason: str = "Weight up 2.4 kg in 72 h (limit 2.0 kg).",
    status: str = "open",
) -> None:
    opened = datetime.now(UTC) - timedelta(hours=hours)
    conn.execute(
        """INSERT INTO alerts (patient_id, kind, severity, status, source, reason, opened_at,
                               updated_at)
           VALUES (%s, %s, %s, %s, 'rule:test', %s, %s, %s)""",
        (patient_id, kind, severity, status, reason, opened, opened),
    )


def worklist(api: TestClient, who: Caller | None = None) -> dict[str, Any]:
    got = api.get(WORKLIST, headers=who.headers if who else None)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def mrns(body: dict[str, Any]) -> list[str]:
    return [row["identifiers"][0]["value"] for row in body["patients"]]


def test_the_worklist_puts_alerts_first_then_risk_and_says_why(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    today = datetime.now(UTC).date()
    risky = enroll_with(api, ann, "RISKY", discharge_inputs=lace_inputs(13))
    critical = enroll_with(api, ann, "CRIT", discharge_inputs=lace_inputs(0))
    older = enroll_with(api, ann, "OLDER", discharge_inputs=lace_inputs(4))
    newer = enroll_with(api, ann, "NEWER", discharge_inputs=lace_inputs(4))
    enroll_with(
        api,
        ann,
        "DAY4",
        discharge_inputs=lace_inputs(4),
        discharge_date=str(today - timedelta(days=4)),
        pathway="CHF",
    )
    refill = enroll_with(api, ann, "REFILL", discharge_inputs=lace_inputs(4))
    # Six patients with a risk: k = ceil(0.9) = 1, only RISKY (13/19) is high-risk.
    add_alert(conn, critical, "critical", hours=3, kind="spo2_low", reason="SpO2 86% (limit 88%).")
    add_alert(conn, older, "high", hours=10)
    add_alert(conn, newer, "high", hours=2)
    add_alert(
        conn, refill, "medium", hours=1, kind="refill_overdue", reason="Loop diuretics: ran out."
    )
    body = worklist(api, ann)
    # The body is written without the models; it must still be what the schema says.
    assert WorklistOut.model_validate(body).total == 6
    assert set(body) == set(WorklistOut.model_fields)
    assert all(set(row) == set(WorklistRowOut.model_fields) for row in body["patients"])
    assert set(body["patients"][0]["alerts"]) == set(WorklistAlerts.model_fields)
    # 3000 + 15; 1000 + 50 + 21; 1000 + 10 + 21; 68 + 100; 21 + 104; 21 + 80.
    assert mrns(body) == ["CRIT", "OLDER", "NEWER", "RISKY", "DAY4", "REFILL"]
    rows = {row["identifiers"][0]["value"]: row for row in body["patients"]}
    assert body["total"] == 6
    assert rows["CRIT"]["reasons"][0] == "Critical alert open 3 h: SpO2 86% (limit 88%)."
    assert rows["CRIT"]["alerts"] | {"oldest_opened_at": None} == {
        "critical": 1,
        "high": 0,
        "medium": 0,
        "low": 0,
        "acknowledged": 0,
        "snoozed": 0,
        "oldest_opened_at": None,
        "oldest_age_hours": pytest.approx(3, abs=0.05),
    }
    assert rows["RISKY"]["high_risk"] is True
    assert rows["RISKY"]["reasons"] == ["High discharge risk (LACE 13)"]
    assert [r["high_risk"] for r in body["patients"]].count(True) == 1
    assert rows["REFILL"]["non_adherence"] == {
        "missed_readings": False,
        "refill_overdue": True,
        "low_pdc": False,
    }
    assert rows["REFILL"]["reasons"] == [
        "Refill overdue: Loop diuretics",
        "Discharge risk 0.21 (LACE 4)",
    ]
    assert rows["NEWER"]["reasons"] == [
        "High alert open 2 h: Weight up 2.4 kg in 72 h (limit 2.0 kg).",
        "Discharge risk 0.21 (LACE 4)",
    ]
    assert (rows["DAY4"]["days_since_discharge"], rows["DAY4"]["reasons"][0]) == (
        4,
        "Day 4 after discharge",
    )
    priorities = [row["priority"] for row in body["patients"]]
    assert priorities == sorted(priorities, reverse=True)
    assert risky in {UUID(r["patient_id"]) for r in body["patients"]}


def test_an_acknowledged_alert_stays_on_the_list_but_lower(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    acked = enroll(api, ann, "ACKED")
    fresh = enroll(api, ann, "FRESH")
    add_alert(conn, acked, "high", hours=20, status="acknowledged")
    add_alert(conn, fresh, "high", hours=1)
    body = worklist(api, ann)
    assert mrns(body) == ["FRESH", "ACKED"]
    acked_row = body["patients"][1]
    assert (acked_row["alerts"]["high"], acked_row["alerts"]["acknowledged"]) == (1, 1)
    assert acked_row["reasons"][0].startswith("High alert (acknowledged) open 20 h:")


def test_a_snoozed_alert_waits_when_the_alerts_table_can_snooze(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    has_column = conn.execute(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'alerts' AND column_name = 'snoozed_until'"
    ).fetchone()
    if has_column != (1,):
        pytest.skip("the alerts table has no snoozed_until (migration 0015 not applied)")
    ann = caller(api, conn, "ann")
    snoozed = enroll(api, ann, "SNOOZED")
    other = enroll(api, ann, "OTHER")
    add_alert(conn, snoozed, "critical", hours=5)
    add_alert(conn, other, "high", hours=1)
    conn.execute(  # on the API's clock (Python's), not the database's
        "UPDATE alerts SET snoozed_until = %s WHERE patient_id = %s",
        (datetime.now(UTC) + timedelta(hours=2), snoozed),
    )
    body = worklist(api, ann)
    assert mrns(body) == ["OTHER", "SNOOZED"]
    assert body["patients"][1]["alerts"]["snoozed"] == 1


def test_high_risk_is_the_top_15_percent_of_all_enrolled_patients(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    bob = caller(api, conn, "bob")
    # 14 scored patients (LACE 0..13) and 6 without inputs: k = ceil(0.15 * 14) = 3,
    # so LACE 13, 12 and 11 (all on Bob's panel) are high-risk, and none of Ann's,
    # though her LACE 10 patient is the top of her panel.
    for total in range(14):
        enroll_with(
            api, bob if total >= 11 else ann, f"L{total}", discharge_inputs=lace_inputs(total)
        )
    for n in range(6):
        enroll(api, ann, f"NONE{n}")
    risks = [r[0] for r in conn.execute("SELECT discharge_risk FROM patients").fetchall()]
    expected = reference_cutoff([r for r in risks if r is not None])
    assert expected == pytest.approx(11 / 19)
    assert high_risk_cutoff(conn) == expected
    anns = worklist(api, ann)
    assert not any(row["high_risk"] for row in anns["patients"])
    assert anns["high_risk_cutoff"] == expected
    assert mrns(anns)[0] == "L10"
    bobs = worklist(api, bob)
    assert [(row["identifiers"][0]["value"], row["high_risk"]) for row in bobs["patients"]] == [
        ("L13", True),
        ("L12", True),
        ("L11", True),
    ]
    # A tie at the cutoff is flagged too (never split): another LACE 11 patient.
    enroll_with(api, ann, "L11-TIE", discharge_inputs=lace_inputs(11))
    assert mrns(worklist(api, ann))[0] == "L11-TIE"
    assert worklist(api, ann)["patients"][0]["high_risk"] is True


def test_a_coordinator_sees_their_panel_and_a_supervisor_their_team(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    sue = caller(api, conn, "sue", Role.SUPERVISOR)
    ann = caller(api, conn, "ann", supervisor=sue.id)
    bob = caller(api, conn, "bob", supervisor=sue.id)
    cal = caller(api, conn, "cal")
    enroll(api, ann, "ANN1")
    shared = enroll(api, ann, "SHARED")
    enroll(api, bob, "BOB1")
    enroll(api, cal, "CAL1")
    enroll(api, sue, "SUE1")
    assert api.put(
        f"/api/v1/patients/{shared}/coordinators", json={"coordinators": [str(ann.id), str(bob.id)]}
    ).is_success
    add_alert(conn, shared, "critical", hours=1)
    assert sorted(mrns(worklist(api, ann))) == ["ANN1", "SHARED"]
    assert sorted(mrns(worklist(api, bob))) == ["BOB1", "SHARED"]
    assert mrns(worklist(api, cal)) == ["CAL1"]
    team = worklist(api, sue)
    assert sorted(mrns(team)) == ["ANN1", "BOB1", "SHARED", "SUE1"]
    assert mrns(team)[0] == "SHARED"
    everyone = worklist(api)  # the admin token
    assert everyone["total"] == 5
    assert len(worklist_limited(api, 2)["patients"]) == 2


def worklist_limited(api: TestClient, limit: int) -> dict[str, Any]:
    got = api.get(WORKLIST, params={"limit": limit})
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    assert body["total"] > limit
    return body


def test_the_worklist_needs_a_token(api: TestClient) -> None:
    got = api.get(WORKLIST, headers={"Authorization": ""})
    assert got.status_code == 401
