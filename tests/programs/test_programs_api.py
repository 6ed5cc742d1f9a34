"""Programmes, the time log and the timer over the HTTP API, as coordinators use them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.service import record_detection
from tests.api_support import Caller, caller, detection, enroll
from tests.programs.support import NPI

pytestmark = pytest.mark.services

TODAY = datetime.now(UTC).date()
DR = {"name": "Dr. Ada Example", "npi": NPI}


def _rpm(api: TestClient, who: Caller, patient: UUID, *, consent: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "RPM",
        "started_on": str(TODAY - timedelta(days=10)),
        "ordering": DR,
        "conditions": ["I50.22"],
    }
    if consent:
        body["consent"] = {"on": str(TODAY - timedelta(days=10)), "method": "verbal"}
    made = api.post(f"/api/v1/patients/{patient}/programs", json=body, headers=who.headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _tcm(
    api: TestClient, who: Caller, patient: UUID, discharged: date, *, setting: str = "inpatient"
) -> dict[str, Any]:
    tcm = {"discharged_on": str(discharged), "setting": setting}
    body = {"kind": "TCM", "ordering": DR, "conditions": ["I50.23"], "tcm": tcm}
    made = api.post(f"/api/v1/patients/{patient}/programs", json=body, headers=who.headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_programme_is_started_with_consent_and_setup_read_and_ended(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    base = f"/api/v1/patients/{patient}/programs"
    made = api.post(
        base,
        json={
            "kind": "RPM", "started_on": str(TODAY - timedelta(days=3)), "ordering": DR,
            "conditions": ["i5022"],
            "consent": {"on": str(TODAY - timedelta(days=3)), "method": "electronic"},
            "setup": {"on": str(TODAY - timedelta(days=2)), "by": "RN Bo Sample"},
        },
        headers=ann.headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    program = made.json()
    assert (program["kind"], program["conditions"], program["ended_on"]) == (
        "RPM",
        ["I50.22"],
        None,
    )
    assert program["ordering"] == DR
    assert program["consent"]["method"] == "electronic"
    assert program["consent"]["recorded_by"] == str(ann.id)
    assert program["setup"]["by"] == "RN Bo Sample"
    assert api.get(base, headers=ann.headers).json() == [program]
    again = api.post(
        f"{base}/{program['id']}/setup",
        json={"on": str(TODAY), "by": "RN Bo Sample"},
        headers=ann.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_recorded")
    ended = api.post(
        f"{base}/{program['id']}/end", json={"ended_on": str(TODAY)}, headers=ann.headers
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_on"] == str(TODAY)
    assert api.get(f"{base}/{program['id']}", headers=ann.headers).json() == ended.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "CCM", "conditions": ["I50.22"]}, "ccm_needs_two_conditions"),
        ({"kind": "RPM", "ordering": {"name": "Dr. X", "npi": "1234567890"}}, "invalid_npi"),
        ({"kind": "CCM", "conditions": ["E11.9", "diabetes"]}, "invalid_condition_code"),
        ({"kind": "TCM"}, "invalid_program"),  # a TCM episode follows a discharge
    ],
    ids=["ccm-one-condition", "bad-npi", "not-icd10cm", "tcm-without-discharge"],
)
def test_a_programme_breaking_a_rule_is_refused_with_its_code(
    api: TestClient, conn: psycopg.Connection[Any], body: dict[str, Any], code: str
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    full = {"started_on": str(TODAY), "ordering": DR, "conditions": [], **body}
    refused = api.post(f"/api/v1/patients/{patient}/programs", json=full, headers=ann.headers)
    assert (refused.status_code, refused.json()["code"]) == (400, code), refused.text
    assert api.get(f"/api/v1/patients/{patient}/programs", headers=ann.headers).json() == []


def test_time_is_logged_after_consent_only_and_corrected_by_a_new_entry(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    program = _rpm(api, ann, patient, consent=False)
    entries = f"/api/v1/patients/{patient}/time-entries"
    work = {"activity": "call", "interactive": True, "note": "weight trend"}
    refused = api.post(entries, json={**work, "minutes": 12}, headers=ann.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "consent_required")
    consent = {"on": str(TODAY - timedelta(days=1)), "method": "written"}
    consented = api.post(
        f"/api/v1/patients/{patient}/programs/{program['id']}/consent",
        json=consent,
        headers=ann.headers,
    )
    assert consented.status_code == 200, consented.text
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    logged = api.post(entries, json={**work, "minutes": 12, "at": an_hour_ago}, headers=ann.headers)
    assert logged.status_code == 201, logged.text
    entry = logged.json()
    assert (entry["program_id"], entry["program_kind"], entry["seconds"], entry["minutes"]) == (
        program["id"], "RPM", 720, 12.0,
    )  # fmt: skip
    assert (entry["coordinator_id"], entry["source"], entry["counts"]) == (
        str(ann.id),
        "manual",
        True,
    )
    fixed = api.post(
        f"{entries}/{entry['id']}/corrections",
        json={"minutes": 20, "reason": "the call ran 20 minutes"},
        headers=ann.headers,
    )
    assert fixed.status_code == 201, fixed.text
    assert (fixed.json()["supersedes"], fixed.json()["seconds"]) == (entry["id"], 1200)
    assert fixed.json()["started_at"] == entry["started_at"]  # the minutes changed, not when
    again = api.post(
        f"{entries}/{entry['id']}/corrections", json={"reason": "again"}, headers=ann.headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_superseded")
    listed = api.get(entries, headers=ann.headers).json()
    assert [(e["id"], e["superseded_by"], e["counts"]) for e in listed] == [
        (entry["id"], fixed.json()["id"], False), (fixed.json()["id"], None, True),
    ]  # fmt: skip


def test_the_timer_survives_a_second_tab_and_stopping_logs_one_entry(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    program = _rpm(api, ann, patient)
    timer = f"/api/v1/patients/{patient}/timer"
    assert api.get(timer, headers=ann.headers).json() is None
    first = api.post(f"{timer}/start", json={"program_id": program["id"]}, headers=ann.headers)
    second = api.post(f"{timer}/start", headers=ann.headers)  # another tab, after a reload
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert (first.json()["started"], second.json()["started"]) == (True, False)
    assert first.json()["started_at"] == second.json()["started_at"]
    assert api.get(timer, headers=ann.headers).json()["started_at"] == first.json()["started_at"]
    # Seven minutes pass.
    conn.execute("UPDATE running_timers SET started_at = started_at - interval '7 minutes'")
    work = {"activity": "data_review", "interactive": False}
    stopped = api.post(f"{timer}/stop", json=work, headers=ann.headers)
    assert stopped.status_code == 201, stopped.text
    assert (stopped.json()["source"], stopped.json()["program_id"]) == ("timer", program["id"])
    assert 420 <= stopped.json()["seconds"] < 480
    late = api.post(f"{timer}/stop", json=work, headers=ann.headers)  # the other tab
    assert (late.status_code, late.json()["code"]) == (409, "timer_conflict")
    assert len(api.get(f"/api/v1/patients/{patient}/time-entries", headers=ann.headers).json()) == 1
    assert api.get(timer, headers=ann.headers).json() is None


def test_another_panels_patient_programme_and_entry_answer_404(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    bob = caller(api, conn, "bob")
    anns, bobs = enroll(api, ann, "SIM-A"), enroll(api, bob, "SIM-B")
    _rpm(api, ann, anns)
    bobs_program = _rpm(api, bob, bobs)
    work = {"activity": "call", "interactive": True}
    bobs_entry = api.post(
        f"/api/v1/patients/{bobs}/time-entries", json={**work, "minutes": 5}, headers=bob.headers
    ).json()
    for got in (
        api.post(f"/api/v1/patients/{bobs}/time-entries", json={**work, "minutes": 5},
                 headers=ann.headers),
        api.get(f"/api/v1/patients/{bobs}/time-entries", headers=ann.headers),
        # Bob's programme and entry named under Ann's own patient.
        api.get(f"/api/v1/patients/{anns}/programs/{bobs_program['id']}", headers=ann.headers),
        api.post(f"/api/v1/patients/{anns}/time-entries",
                 json={**work, "minutes": 5, "program_id": bobs_program["id"]},
                 headers=ann.headers),
        api.post(f"/api/v1/patients/{anns}/time-entries/{bobs_entry['id']}/corrections",
                 json={"reason": "mine now", "minutes": 0}, headers=ann.headers),
    ):  # fmt: skip
        assert (got.status_code, got.json()["code"]) == (404, "not_found"), got.request.url
    assert len(api.get(f"/api/v1/patients/{bobs}/time-entries", headers=bob.headers).json()) == 1


def test_the_service_token_reads_programmes_but_does_not_record_time(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    _rpm(api, ann, patient)
    assert len(api.get(f"/api/v1/patients/{patient}/programs").json()) == 1
    refused = api.post(
        f"/api/v1/patients/{patient}/time-entries",
        json={"activity": "call", "interactive": True, "minutes": 5},
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_acknowledging_an_alert_with_time_stores_both_or_neither(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    program = _rpm(api, ann, patient, consent=False)
    alert = record_detection(conn, detection=detection(patient), now=datetime.now(UTC)).alert_id
    time = {"minutes": 6, "activity": "data_review", "interactive": False, "note": "reviewed"}
    refused = api.post(
        f"/api/v1/alerts/{alert}/ack", json={"note": "on it", "time": time}, headers=ann.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "consent_required")
    assert api.get(f"/api/v1/alerts/{alert}", headers=ann.headers).json()["status"] == "open"
    api.post(
        f"/api/v1/patients/{patient}/programs/{program['id']}/consent",
        json={"on": str(TODAY - timedelta(days=1)), "method": "verbal"},
        headers=ann.headers,
    )
    acked = api.post(
        f"/api/v1/alerts/{alert}/ack", json={"note": "on it", "time": time}, headers=ann.headers
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    entry = acked.json()["time_entry"]
    assert (entry["alert_id"], entry["seconds"], entry["source"], entry["note"]) == (
        alert, 360, "alert", "reviewed",
    )  # fmt: skip
    stored = conn.execute(
        "SELECT a.status, t.alert_id, t.coordinator_id FROM alerts a"
        " JOIN time_entries t ON t.alert_id = a.id WHERE a.id = %s",
        (alert,),
    ).fetchall()
    assert stored == [("acknowledged", alert, ann.id)]
    resolved = api.post(f"/api/v1/alerts/{alert}/resolve", json={}, headers=ann.headers)
    assert (resolved.status_code, resolved.json()["time_entry"]) == (200, None)


def test_a_tcm_programme_records_its_milestones_once(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    discharged = TODAY - timedelta(days=5)
    made = _tcm(api, ann, patient, discharged, setting="skilled_nursing")
    assert made["started_on"] == str(discharged)
    milestones = f"/api/v1/patients/{patient}/programs/{made['id']}/tcm"
    contact = datetime.combine(discharged + timedelta(days=1), datetime.min.time(), UTC)
    set_ = api.post(
        milestones,
        json={"first_contact_at": contact.isoformat(), "complexity": "moderate"},
        headers=ann.headers,
    )
    assert set_.status_code == 200, set_.text
    tcm = set_.json()["tcm"]
    assert (tcm["complexity"], tcm["face_to_face_on"]) == ("moderate", None)
    # Who recorded each milestone, and when.
    recorded = set_.json()["recorded"]
    assert set(recorded) == {"complexity", "contact"}
    contact_record = recorded["contact"]
    assert (contact_record["at"], contact_record["recorded_by"]) == (
        contact.isoformat().replace("+00:00", "Z"), str(ann.id),
    )  # fmt: skip
    assert contact_record["recorded_by_name"] == "ann"
    assert datetime.fromisoformat(contact_record["recorded_at"]) > contact
    again = api.post(milestones, json={"complexity": "high"}, headers=ann.headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_recorded")
    # TCM time needs no consent.
    logged = api.post(
        f"/api/v1/patients/{patient}/time-entries",
        json={"activity": "medication_reconciliation", "interactive": True, "minutes": 15},
        headers=ann.headers,
    )
    assert logged.status_code == 201, logged.text
    assert date.fromisoformat(made["started_on"]) == discharged


def test_consent_set_up_and_milestones_are_refused_by_the_same_rules(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    """One implementation records them all: a fact on the wrong kind of programme, a date in
    the future and a second recording are refused alike, whichever route says it."""
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    rpm = _rpm(api, ann, patient, consent=False)
    base = f"/api/v1/patients/{patient}/programs/{rpm['id']}"
    tomorrow = str(TODAY + timedelta(days=2))

    def answer(path: str, body: dict[str, Any]) -> tuple[int, str]:
        got = api.post(f"{base}/{path}", json=body, headers=ann.headers)
        return got.status_code, got.json()["code"] if got.status_code >= 400 else "ok"

    assert answer("consent", {"on": tomorrow, "method": "verbal"}) == (400, "invalid_dates")
    assert answer("setup", {"on": tomorrow, "by": "RN Lee"}) == (400, "invalid_dates")
    assert answer("tcm", {"complexity": "high"}) == (400, "invalid_program")
    assert answer("setup", {"on": str(TODAY), "by": "RN Lee"}) == (200, "ok")
    assert answer("consent", {"on": str(TODAY), "method": "verbal"}) == (200, "ok")
    assert answer("consent", {"on": str(TODAY), "method": "written"}) == (409, "already_recorded")
    assert answer("setup", {"on": str(TODAY), "by": "RN Lee"}) == (409, "already_recorded")
    program = api.get(base, headers=ann.headers).json()
    assert (program["consent"]["method"], program["setup"]["by"]) == ("verbal", "RN Lee")


def test_unsuccessful_contact_attempts_are_recorded_by_the_caller_any_number(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "SIM-A")
    discharged = TODAY - timedelta(days=1)
    made = _tcm(api, ann, patient, discharged)
    attempts = f"/api/v1/patients/{patient}/programs/{made['id']}/contact-attempts"
    first = datetime.combine(discharged, datetime.min.time(), UTC) + timedelta(hours=15)
    for at, method in ((first, "telephone"), (first + timedelta(hours=2), "electronic")):
        body = {"at": at.isoformat(), "method": method, "note": "voicemail"}
        got = api.post(attempts, json=body, headers=ann.headers)
        assert got.status_code == 201, got.text
    listed = got.json()["contact_attempts"]
    assert [(a["method"], a["attempted_by_name"], a["note"]) for a in listed] == [
        ("telephone", "ann", "voicemail"), ("electronic", "ann", "voicemail"),
    ]  # fmt: skip
    assert got.json()["tcm"]["first_contact_at"] is None  # attempts are not the contact
    future = {"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "method": "telephone"}
    too_early = {"at": (first - timedelta(days=2)).isoformat(), "method": "telephone"}
    for body, code in ((future, "invalid_dates"), (too_early, "invalid_dates")):
        refused = api.post(attempts, json=body, headers=ann.headers)
        assert (refused.status_code, refused.json()["code"]) == (400, code)
    rpm = _rpm(api, ann, enroll(api, ann, "SIM-B"))
    on_rpm = api.post(
        f"/api/v1/patients/{rpm['patient_id']}/programs/{rpm['id']}/contact-attempts",
        json={"at": first.isoformat(), "method": "telephone"},
        headers=ann.headers,
    )
    assert (on_rpm.status_code, on_rpm.json()["code"]) == (400, "invalid_program")
