"""A programme's record and its corrections over the HTTP API, as coordinators use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.tcm_alerts import run_tcm_checks
from tests.api_support import caller, enroll
from tests.programs.support import NPI

pytestmark = pytest.mark.services

TODAY = datetime.now(UTC).date()
DR = {"name": "Dr. Ada Example", "npi": NPI}


def test_consent_is_corrected_by_a_new_record_and_the_old_one_stays_in_the_history(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    begun = str(TODAY - timedelta(days=3))
    program = api.post(
        f"/api/v1/patients/{patient}/programs",
        json={"kind": "RPM", "started_on": begun, "ordering": DR,
              "consent": {"on": begun, "method": "verbal"}},
        headers=ann.headers,
    ).json()  # fmt: skip
    base = f"/api/v1/patients/{patient}/programs/{program['id']}"
    consent = program["recorded"]["consent"]
    fixed = api.post(
        f"{base}/records/{consent['id']}/corrections",
        json={"reason": "the patient signed the form", "method": "written"},
        headers=ann.headers,
    )
    assert fixed.status_code == 201, fixed.text
    new = fixed.json()
    assert (new["fact"], new["method"], new["on"], new["supersedes"], new["reason"]) == (
        "consent", "written", begun, consent["id"], "the patient signed the form",
    )  # fmt: skip
    assert (new["recorded_by_name"], new["current"]) == ("ann", True)
    now_is = api.get(base, headers=ann.headers).json()
    assert (now_is["consent"]["method"], now_is["recorded"]["consent"]["id"]) == (
        "written", new["id"],
    )  # fmt: skip
    history = api.get(f"{base}/records", headers=ann.headers).json()
    assert [(r["id"], r["method"], r["superseded_by"], r["current"]) for r in history] == [
        (consent["id"], "verbal", new["id"], False), (new["id"], "written", None, True),
    ]  # fmt: skip
    again = api.post(
        f"{base}/records/{consent['id']}/corrections",
        json={"reason": "again", "method": "electronic"},
        headers=ann.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_superseded")
    for body, code in (
        ({"reason": "nothing changes"}, "invalid_program"),
        ({"reason": "a consent has no note", "note": "x"}, "invalid_program"),
        ({"reason": "not a consent's method", "method": "telephone"}, "invalid_program"),
        ({"reason": "too late", "on": str(TODAY + timedelta(days=2))}, "invalid_dates"),
    ):
        refused = api.post(
            f"{base}/records/{new['id']}/corrections", json=body, headers=ann.headers
        )
        assert (refused.status_code, refused.json()["code"]) == (400, code), body
    # Another programme's record named under this one is not found; the service token
    # reads the record but corrects nothing.
    other = api.post(
        f"/api/v1/patients/{patient}/programs",
        json={"kind": "CCM", "started_on": begun, "ordering": DR, "conditions": ["I50.22", "E11.9"],
              "consent": {"on": begun, "method": "verbal"}},
        headers=ann.headers,
    ).json()  # fmt: skip
    theirs = other["recorded"]["consent"]["id"]
    crossed = api.post(
        f"{base}/records/{theirs}/corrections",
        json={"reason": "x", "method": "written"},
        headers=ann.headers,
    )
    assert (crossed.status_code, crossed.json()["code"]) == (404, "not_found")
    assert api.get(f"{base}/records").status_code == 200
    service = api.post(
        f"{base}/records/{new['id']}/corrections", json={"reason": "x", "method": "verbal"}
    )
    assert (service.status_code, service.json()["code"]) == (403, "forbidden")


def test_a_contact_attempt_corrected_into_time_resolves_the_missed_contact_alert(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    """Discharged 10 days ago (UTC), so the contact deadline has passed: one attempt in time
    and one written down with the wrong day, after the deadline; the alert opens. The
    second corrected to its real day, within the deadline: the contact is attempted twice,
    and the correction resolves the alert in its transaction."""
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    discharged = TODAY - timedelta(days=10)
    made = api.post(
        f"/api/v1/patients/{patient}/programs",
        json={"kind": "TCM", "ordering": DR,
              "tcm": {"discharged_on": str(discharged), "setting": "inpatient"}},
        headers=ann.headers,
    ).json()  # fmt: skip
    base = f"/api/v1/patients/{patient}/programs/{made['id']}"
    day_of = datetime.combine(discharged, datetime.min.time(), UTC) + timedelta(hours=15)
    for at in (day_of, day_of + timedelta(days=7)):
        body = {"at": at.isoformat(), "method": "telephone"}
        assert api.post(f"{base}/contact-attempts", json=body, headers=ann.headers).is_success
    assert run_tcm_checks(conn, now=datetime.now(UTC)) >= 1
    conn.commit()
    late = api.get(base, headers=ann.headers).json()["contact_attempts"][1]
    fixed = api.post(
        f"{base}/records/{late['id']}/corrections",
        json={
            "reason": "the call was on the day of discharge",
            "at": day_of.replace(hour=17).isoformat(),
        },
        headers=ann.headers,
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["attempted_by_name"] == "ann"
    alerts = conn.execute("SELECT kind, status FROM alerts ORDER BY id").fetchall()
    assert ("tcm_contact_missed", "resolved") in alerts
    progress = api.get(f"/api/v1/patients/{patient}/care-progress", headers=ann.headers).json()
    contact = progress["tcm"][0]["clocks"][0]
    assert (contact["status"], contact["attempts"]) == ("attempted", 2)
