"""The billing routes: who may read a month, and a sign-off that freezes it byte for byte."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import audit
from api.accounts import Role
from tests.api_support import Caller, caller, enroll
from tests.billing_export.support import daily, home_devices, of

pytestmark = pytest.mark.services

Conn = psycopg.Connection[Any]
DR = {"name": "Dr. Ada Example", "npi": "1234567893"}
MARCH = "/api/v1/billing?month=2026-03"


def _rpm(api: TestClient, who: Caller, patient: UUID) -> int:
    made = api.post(
        f"/api/v1/patients/{patient}/programs",
        json={"kind": "RPM", "started_on": "2026-03-01", "ordering": DR,
              "consent": {"on": "2026-03-01", "method": "verbal"}},
        headers=who.headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _time(
    api: TestClient, who: Caller, patient: UUID, at: str, minutes: int, *, call: bool = True
) -> Any:
    work = {"activity": "call" if call else "data_review", "interactive": call}
    return api.post(
        f"/api/v1/patients/{patient}/time-entries",
        json={**work, "minutes": minutes, "at": at},
        headers=who.headers,
    )


class Team:
    """Two supervisors' teams: sue's coordinator cora with patient A (16 sensed days, a
    20-minute call), tom's coordinator carl with patient B (a 10-minute call)."""

    def __init__(self, api: TestClient, conn: Conn) -> None:
        self.sue = caller(api, conn, "sue", Role.SUPERVISOR)
        self.tom = caller(api, conn, "tom", Role.SUPERVISOR)
        self.cora = caller(api, conn, "cora", supervisor=self.sue.id)
        self.carl = caller(api, conn, "carl", supervisor=self.tom.id)
        self.a = enroll(api, self.cora, "SIM-A")
        self.b = enroll(api, self.carl, "SIM-B")
        for who, patient in ((self.cora, self.a), (self.carl, self.b)):
            _rpm(api, who, patient)
        self.cuff = home_devices(conn, self.a, ("A-CUFF",))["A-CUFF"]
        daily(conn, self.a, self.cuff, date(2026, 3, 1), 16)
        self.call = _time(api, self.cora, self.a, "2026-03-10T15:00:00Z", 20).json()["id"]
        assert _time(api, self.carl, self.b, "2026-03-11T15:00:00Z", 10).status_code == 201


def _patients(answer: Any) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {r["patient_id"] for r in answer.json()["rows"]}


def test_a_month_is_yyyy_mm_with_rules_and_a_supervisor_sees_their_panel(
    api: TestClient, conn: Conn
) -> None:
    """(Coordinators' 403: tests/test_access_matrix.py.)"""
    team = Team(api, conn)
    assert _patients(api.get(MARCH, headers=team.sue.headers)) == {str(team.a)}
    for month, status, code in (
        ("2026-13", 400, "invalid_month"),
        ("2025-12", 400, "invalid_month"),  # no rules file covers it
        ("march", 422, "invalid_request"),
    ):
        got = api.get(f"/api/v1/billing?month={month}", headers=team.sue.headers)
        assert (got.status_code, got.json()["code"]) == (status, code), month
    sign = api.post("/api/v1/billing/2025-12/sign-off", headers=team.sue.headers)
    assert (sign.status_code, sign.json()["code"]) == (400, "invalid_month")


def test_a_sign_off_freezes_the_export_byte_for_byte_and_later_time_goes_to_april(
    api: TestClient, conn: Conn
) -> None:
    team = Team(api, conn)
    sue = team.sue.headers
    before = api.get(MARCH, headers=sue)
    assert before.headers["X-Billing-Signed"] == "false"
    signed = api.post("/api/v1/billing/2026-03/sign-off", headers=sue)
    assert signed.status_code == 201, signed.text
    body = signed.json()
    digest = hashlib.sha256(before.content).hexdigest()
    assert (body["month"], body["scope"], body["signed_by_name"], body["sha256"]) == (
        "2026-03", f"supervisor:{team.sue.id}", "sue", digest,
    )  # fmt: skip
    assert (body["patient_count"], body["row_count"]) == (1, 3)
    frozen_json = api.get(MARCH, headers=sue)
    frozen_csv = api.get(f"{MARCH}&format=csv", headers=sue)
    assert frozen_json.content == before.content
    assert frozen_json.headers["X-Billing-SHA256"] == digest
    assert frozen_csv.headers["content-type"].startswith("text/csv")
    # Fifteen more minutes on 20 March, logged after the sign-off.
    late = _time(api, team.cora, team.a, "2026-03-20T15:00:00Z", 15)
    assert late.status_code == 201, late.text
    # And a reading of 20 March that reaches the hub only now (a 17th day).
    daily(conn, team.a, team.cuff, date(2026, 3, 20), 1, hour=18)
    assert api.get(MARCH, headers=sue).content == before.content
    assert api.get(f"{MARCH}&format=csv", headers=sue).content == frozen_csv.content
    live = of(api.get(MARCH).json()["rows"], team.a)
    assert [(r["service"], r["quantity"]) for r in live] == [
        ("device_days", 17),
        ("setup", 17),
        ("time", 20),
    ]  # fmt: skip  (the admin's export is not signed: it is counted anew)
    # They count in April, the patient's first month not signed.
    april = api.get("/api/v1/billing?month=2026-04", headers=sue).json()["rows"]
    (time_row,) = [r for r in april if r["service"] == "time"]
    assert (time_row["quantity"], time_row["code"], time_row["status"]) == (15, "99470", "billable")
    entry = time_row["evidence"]["entries"][0]
    assert (entry["id"], entry["moved_from"], entry["minutes"]) == (
        late.json()["id"],
        "2026-03",
        15,
    )
    # A signed month's time is not corrected; time billed in the open month is.
    fix = {"reason": "it was 25 minutes", "minutes": 25}
    base = f"/api/v1/patients/{team.a}/time-entries"
    refused = api.post(f"{base}/{team.call}/corrections", json=fix, headers=team.cora.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "month_signed")
    moved = api.post(f"{base}/{late.json()['id']}/corrections", json=fix, headers=team.cora.headers)
    assert moved.status_code == 201, moved.text
    # Once per scope; and not before the month has ended everywhere.
    again = api.post("/api/v1/billing/2026-03/sign-off", headers=sue)
    assert (again.status_code, again.json()["code"]) == (409, "already_signed")
    this_month = f"{datetime.now(UTC):%Y-%m}"
    early = api.post(f"/api/v1/billing/{this_month}/sign-off", headers=sue)
    assert (early.status_code, early.json()["code"]) == (409, "month_not_over")
    # The hash is in the audit chain, and the chain holds.
    conn.commit()
    action = f"billing.sign_off 2026-03 supervisor:{team.sue.id} sha256:{digest}"
    found = conn.execute("SELECT actor, outcome FROM audit_log WHERE action = %s", (action,))
    assert found.fetchall() == [("sue", 201)]
    assert audit.verify(conn).intact
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("UPDATE billing_signoffs SET sha256 = sha256")


def test_an_admins_later_sign_off_covers_only_the_patients_not_signed_yet(
    api: TestClient, conn: Conn
) -> None:
    team = Team(api, conn)
    ada = caller(api, conn, "ada", Role.ADMIN)
    assert api.post("/api/v1/billing/2026-03/sign-off", headers=team.sue.headers).status_code == 201
    service = api.post("/api/v1/billing/2026-03/sign-off")  # a sign-off is a person's
    assert (service.status_code, service.json()["code"]) == (403, "forbidden")
    signed = api.post("/api/v1/billing/2026-03/sign-off", headers=ada.headers)
    assert signed.status_code == 201, signed.text
    assert (signed.json()["scope"], signed.json()["patient_count"]) == ("all", 1)
    answer = api.get(MARCH, headers=ada.headers)
    assert _patients(answer) == {str(team.b)}  # A is sue's to sign, and signed
    assert answer.headers["X-Billing-SHA256"] == signed.json()["sha256"]
    assert api.get(MARCH).content == answer.content  # the service token's scope is all, too
    again = api.post("/api/v1/billing/2026-03/sign-off", headers=team.tom.headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_signed")
