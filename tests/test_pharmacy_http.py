"""Dispenses over HTTP: a FHIR Bundle or NDJSON, each entry judged on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import psycopg
from fastapi.testclient import TestClient

from alerts.service import record_detection
from tests.api_support import detection
from tests.support import count
from tests.test_dispenses import dispense

URL = "/api/v1/pharmacy/dispenses"


def bundle(*resources: dict[str, Any]) -> bytes:
    entries = [{"resource": r} for r in resources]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def test_a_bundle_stores_the_good_entries_and_reports_each_one(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    enrolled = api.post(
        "/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]}
    )
    assert enrolled.status_code == 201
    good = dispense()
    unknown = dispense(
        identifier=[{"system": "urn:pharmacy:test", "value": "RX-2"}],
        subject={"identifier": {"system": "urn:mrn", "value": "SIM-404"}},
    )
    no_supply = dispense(identifier=[{"system": "urn:pharmacy:test", "value": "RX-3"}])
    del no_supply["daysSupply"]
    body = bundle(good, unknown, no_supply, good)
    headers = {"Content-Type": "application/fhir+json"}
    first = api.post(URL, content=body, headers=headers)
    assert first.status_code == 200, first.text
    report = first.json()
    assert [e["status"] for e in report["entries"]] == ["stored", "held", "rejected", "duplicate"]
    assert report["entries"][2]["code"] == "schema_invalid"
    assert "daysSupply" in report["entries"][2]["detail"]
    assert (report["stored"], report["held"], report["duplicates"], report["rejected"]) == (
        2, 1, 1, 1,
    )  # fmt: skip
    again = api.post(URL, content=body, headers=headers).json()
    assert [e["status"] for e in again["entries"]] == [
        "duplicate", "duplicate", "rejected", "duplicate",
    ]  # fmt: skip
    assert count(conn, "SELECT count(*) FROM dispenses") == 2


def test_ndjson_lines_are_judged_one_by_one(api: TestClient, conn: psycopg.Connection[Any]) -> None:
    lines = orjson.dumps(dispense()) + b"\n{not json\n"
    got = api.post(URL, content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert got.status_code == 200, got.text
    statuses = [(e["status"], e.get("code")) for e in got.json()["entries"]]
    assert statuses == [("held", None), ("rejected", "malformed_json")]
    assert count(conn, "SELECT count(*) FROM dispenses WHERE patient_id IS NULL") == 1


def test_an_unreadable_envelope_is_a_coded_error(api: TestClient) -> None:
    not_json = api.post(URL, content=b"{", headers={"Content-Type": "application/fhir+json"})
    assert (not_json.status_code, not_json.json()["code"]) == (400, "malformed_json")
    not_bundle = api.post(URL, json={"resourceType": "Patient"})
    assert (not_bundle.status_code, not_bundle.json()["code"]) == (400, "schema_invalid")


def test_an_overdue_refill_alerts_on_arrival_and_the_refill_resolves_it(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    api.post("/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]})
    today = datetime.now(UTC).date()
    old = dispense(whenHandedOver=(today - timedelta(days=60)).isoformat())
    got = api.post(URL, content=bundle(old), headers={"Content-Type": "application/fhir+json"})
    assert got.json()["stored"] == 1
    row = conn.execute("SELECT kind, severity, status, reason FROM alerts").fetchone()
    assert row is not None
    assert row[:3] == ("refill_overdue", "medium", "open")
    assert "Loop diuretics: furosemide" in row[3]
    refill = dispense(
        identifier=[{"system": "urn:pharmacy:test", "value": "RX-refill"}],
        whenHandedOver=today.isoformat(),
    )
    api.post(URL, content=bundle(refill), headers={"Content-Type": "application/fhir+json"})
    statuses = conn.execute("SELECT kind, severity, status FROM alerts ORDER BY id").fetchall()
    # Two fills now make the patient eligible for PDC: 31 of 61 days covered.
    assert statuses == [("refill_overdue", "medium", "resolved"), ("low_pdc", "low", "open")]


def test_an_overdue_diuretic_during_a_weight_gain_alert_is_high_and_says_both(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    made = api.post(
        "/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]}
    )
    patient_id = UUID(made.json()["id"])
    now = datetime.now(UTC)
    record_detection(conn, detection=detection(patient_id), now=now)
    conn.commit()
    old = dispense(whenHandedOver=(now.date() - timedelta(days=60)).isoformat())
    api.post(URL, content=bundle(old), headers={"Content-Type": "application/fhir+json"})
    row = conn.execute(
        "SELECT severity, reason FROM alerts WHERE kind = 'refill_overdue'"
    ).fetchone()
    assert row is not None
    assert row[0] == "high"
    assert "Loop diuretics: furosemide" in row[1]
    assert "With the open weight_gain alert: Daily weight 84.0 kg" in row[1]


def test_a_body_over_the_limit_is_refused_with_413(api: TestClient) -> None:
    big = b"x" * (32 * 1024 * 1024 + 1)
    got = api.post(URL, content=big, headers={"Content-Type": "application/x-ndjson"})
    assert (got.status_code, got.json()["code"]) == (413, "payload_too_large")


def _post(api: TestClient, *resources: dict[str, Any]) -> None:
    got = api.post(
        URL, content=bundle(*resources), headers={"Content-Type": "application/fhir+json"}
    )
    assert got.status_code == 200, got.text


def _fill(rx: str, days_ago: int, text: str = "Furosemide 40 MG Oral Tablet") -> dict[str, Any]:
    when = (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()
    return dispense(
        identifier=[{"system": "urn:pharmacy:test", "value": rx}],
        whenHandedOver=when,
        medicationCodeableConcept={"text": text},
    )


def test_a_low_pdc_alert_ends_when_the_covered_days_recover(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    api.post("/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]})
    _post(api, _fill("RX-1", 120), _fill("RX-2", 60))  # 60 of 121 days covered
    open_kinds = "SELECT kind FROM alerts WHERE status <> 'resolved' ORDER BY kind"
    assert [r[0] for r in conn.execute(open_kinds)] == ["low_pdc", "refill_overdue"]
    _post(api, _fill("RX-3", 90), _fill("RX-4", 30), _fill("RX-5", 0))  # now every day
    assert conn.execute(open_kinds).fetchall() == []


def test_the_overdue_alert_names_the_class_overdue_now(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    api.post("/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]})
    _post(api, _fill("RX-1", 60))
    reason = "SELECT reason FROM alerts WHERE kind = 'refill_overdue' AND status = 'open'"
    first = conn.execute(reason).fetchone()
    assert first is not None
    assert "furosemide" in first[0]
    # The diuretic is refilled; meanwhile a beta-blocker ran out.
    _post(api, _fill("RX-2", 0), _fill("RX-3", 50, "Metoprolol succinate 50 MG"))
    now = conn.execute(reason).fetchone()
    assert now is not None
    assert "metoprolol" in now[0]
    assert "furosemide" not in now[0]
