"""Provisioning and readings over HTTP, against the real database and broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from tests.conftest import RunningWorker
from tests.support import GatewayClient, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services


def test_admin_routes_need_a_valid_token(api: TestClient) -> None:
    for headers, code in (
        ({"Authorization": "Bearer not-the-token"}, "invalid_token"),
        ({"Authorization": ""}, "unauthorized"),
    ):
        response = api.post("/api/v1/gateways", json={}, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == code
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_gateway_password_is_returned_once_and_works_on_the_broker(
    api: TestClient, settings: Settings
) -> None:
    response = api.post("/api/v1/gateways", json={"label": "home hub"})
    assert response.status_code == 201
    body = response.json()
    assert body["mqtt_username"] == body["id"] == body["client_id"]
    assert body["errors_topic"] == f"lastmile/v1/gateways/{body['id']}/errors"
    with GatewayClient(settings, body["id"], body["mqtt_password"]) as client:
        assert client.connected


def test_enrollment_and_device_registration_errors_are_coded(api: TestClient) -> None:
    patient = api.post(
        "/api/v1/patients",
        json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}], "pathway": "HTN"},
    )
    assert patient.status_code == 201
    again = api.post(
        "/api/v1/patients", json={"identifiers": [{"system": "urn:mrn", "value": "SIM-1"}]}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    bad = api.post("/api/v1/patients", json={"pathway": "XYZ"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_request"
    missing = api.post(
        "/api/v1/devices",
        json={
            "serial": "SC-1",
            "kind": "scale",
            "gateway_id": "gw-nosuchgateway",
            "patient_id": patient.json()["id"],
        },
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    gw = api.post("/api/v1/gateways", json={}).json()
    ok = {
        "serial": "SC-dup",
        "kind": "scale",
        "gateway_id": gw["id"],
        "patient_id": patient.json()["id"],
    }
    assert api.post("/api/v1/devices", json=ok).status_code == 201
    assert api.post("/api/v1/devices", json=ok).status_code == 409


def test_readings_raw_and_bucketed(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    day = now_minus(days=3).replace(hour=0, minute=0, second=0)
    values = [80.0, 81.0, 82.0, 90.0]
    points = [weight_point(v, day + timedelta(hours=2 * i)) for i, v in enumerate(values[:3])]
    points.append(weight_point(values[3], day + timedelta(days=1, hours=1)))
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials["scale"], points)
    url = f"/api/v1/patients/{gw.patient_id}/readings"
    window = {
        "measure": "body-weight",
        "from": (day - timedelta(days=1)).isoformat(),
        "to": now_minus(seconds=0).isoformat(),
    }
    assert wait_until(lambda: len(api.get(url, params=window).json()["points"]) == 4)
    raw = api.get(url, params=window).json()
    assert raw["unit"] == "kg"
    assert [p["value"] for p in raw["points"]] == values
    daily = api.get(url, params={**window, "bucket": "1d"}).json()["buckets"]
    assert [(b["count"], b["mean"], b["min"], b["max"]) for b in daily] == [
        (3, 81.0, 80.0, 82.0),
        (1, 90.0, 90.0, 90.0),
    ]
    unknown = api.get(
        "/api/v1/patients/00000000-0000-0000-0000-000000000000/readings", params=window
    )
    assert unknown.status_code == 404
    naive = api.get(url, params={"measure": "body-weight", "from": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["code"] == "naive_time"


def test_a_patient_has_a_time_zone_and_an_unknown_one_is_refused(api: TestClient) -> None:
    assert api.post("/api/v1/patients", json={}).json()["timezone"] == "UTC"
    made = api.post("/api/v1/patients", json={"timezone": "America/New_York"})
    assert made.status_code == 201
    got = api.get(f"/api/v1/patients/{made.json()['id']}")
    assert got.json()["timezone"] == "America/New_York"
    bad = api.post("/api/v1/patients", json={"timezone": "Mars/Olympus_Mons"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_request"
    assert "Mars/Olympus_Mons" in bad.text


def test_a_patients_threshold_overrides_are_checked_against_the_pathway(
    api: TestClient,
) -> None:
    made = api.post(
        "/api/v1/patients",
        json={"pathway": "COPD", "threshold_overrides": {"limits.oxygen-saturation.low": 84}},
    )
    assert made.status_code == 201
    assert made.json()["threshold_overrides"] == {"limits.oxygen-saturation.low": 84}
    got = api.get(f"/api/v1/patients/{made.json()['id']}")
    assert got.json()["threshold_overrides"] == {"limits.oxygen-saturation.low": 84}
    bad = api.post("/api/v1/patients", json={"threshold_overrides": {"spo2_lowest": 85}})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_request"
    assert "spo2_lowest" in bad.text
    bad = api.post(
        "/api/v1/patients",
        json={"threshold_overrides": {"limits.blood-pressure.systolic.low": "low"}},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
    assert "expected a number" in bad.text


def test_the_old_names_of_the_limits_are_accepted_and_stored_by_measure(
    api: TestClient,
) -> None:
    """Clients of before the limits were keyed by measure keep working (hub.limits.LEGACY_KEYS)."""
    old = {"spo2_low": 85, "severity.bp_low": "medium", "systolic_high_at_once": 210}
    made = api.post("/api/v1/patients", json={"pathway": "COPD", "threshold_overrides": old})
    assert made.status_code == 201, made.text
    stored = {
        "limits.oxygen-saturation.low": 85,
        "limits.blood-pressure.low_severity": "medium",
        "limits.blood-pressure.systolic.high_at_once": 210,
    }
    assert made.json()["threshold_overrides"] == stored
    assert api.get(f"/api/v1/patients/{made.json()['id']}").json()["threshold_overrides"] == stored
    twice = {"spo2_low": 85, "limits.oxygen-saturation.low": 84}
    bad = api.post("/api/v1/patients", json={"threshold_overrides": twice})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
    assert "both set" in bad.text
