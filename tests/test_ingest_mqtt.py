"""End to end over the real broker and database: conformance, idempotency, ACLs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import MQTTProtocolVersion

from hub.domain import SUPPORTED_VERSIONS, Measure, RejectionCode
from hub.settings import Settings
from tests.conformance_support import REFUSED_SHOULD_PASS
from tests.conftest import RunningWorker, conformance_dir, running_worker
from tests.support import (
    GatewayClient,
    count,
    now_minus,
    provision,
    wait_until,
    weight_point,
    wrap_body,
)

pytestmark = pytest.mark.services

CASES = [(m, v) for m in Measure for v in SUPPORTED_VERSIONS[m]]


@pytest.fixture
def undated_worker(settings: Settings) -> Iterator[RunningWorker]:
    """A worker that takes readings of any age: the Open mHealth cases are
    dated 2013-2016, past the default ``max_reading_age_days`` (time_too_old)."""
    with running_worker(settings.model_copy(update={"max_reading_age_days": 100 * 366})) as running:
        yield running


@pytest.mark.parametrize(("measure", "version"), CASES, ids=[f"{m.value}-{v}" for m, v in CASES])
def test_openmhealth_conformance_over_mqtt(
    measure: Measure,
    version: str,
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    undated_worker: RunningWorker,
) -> None:
    base = conformance_dir() / "openmhealth" / "test-data" / "omh" / measure.value / version
    refused = {f"{measure.value}/{version}/{p.stem}" for p in base.glob("shouldPass/*.json")}
    refused &= REFUSED_SHOULD_PASS
    passing = sorted(
        p
        for p in (base / "shouldPass").glob("*.json")
        if f"{measure.value}/{version}/{p.stem}" not in refused
    )
    failing = sorted((base / "shouldFail").glob("*.json"))
    assert passing, f"no shouldPass cases under {base}"
    cases = [(p, True) for p in passing] + [(p, False) for p in failing]
    # One device per case: two cases with the same effective time would
    # otherwise be the same reading by the idempotency rule.
    gw = provision(api, kinds=["multi"] * len(cases))
    serials = sorted(gw.serials.values())
    assert len(serials) == 1  # provision() keys by kind; register the rest here
    serials = [serials[0]] + [_register(api, gw.gateway_id, gw.patient_id) for _ in cases[1:]]
    sent: list[tuple[str, str, str, bool]] = []
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        for (path, should_pass), serial in zip(cases, serials, strict=True):
            header_id = f"{path.stem}-{uuid.uuid4().hex[:8]}"
            body = json.loads(path.read_text())
            client.publish_all(
                serial, [wrap_body(body, measure.value, version, header_id=header_id)]
            )
            sent.append((path.name, serial, header_id, should_pass))
        failures = sum(1 for *_, ok in sent if not ok)
        assert wait_until(lambda: len(client.errors) >= failures, timeout=30)
        assert wait_until(
            lambda: count(conn, "SELECT count(*) FROM readings") >= len(passing), timeout=30
        )

    errors_by_header = {e["header_id"]: e for e in client.errors}
    for name, serial, header_id, should_pass in sent:
        stored = count(
            conn,
            "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device_id"
            " WHERE d.serial = %s",
            serial,
        )
        letters = conn.execute(
            "SELECT code FROM dead_letters WHERE header_id = %s", (header_id,)
        ).fetchall()
        if should_pass:
            assert stored == 1, f"shouldPass {name} was not stored: {letters}"
            assert header_id not in errors_by_header
        else:
            assert stored == 0, f"shouldFail {name} was stored"
            assert len(letters) == 1, f"shouldFail {name}: dead letters {letters}"
            assert letters[0][0] in {c.value for c in RejectionCode}
            error = errors_by_header[header_id]
            assert error["code"] == letters[0][0]
            assert error["device_serial"] == serial
            assert error["detail"]


def _register(api: TestClient, gateway_id: str, patient_id: str) -> str:
    serial = f"MX-{uuid.uuid4().hex[:10]}"
    response = api.post(
        "/api/v1/devices",
        json={
            "serial": serial,
            "kind": "multi",
            "gateway_id": gateway_id,
            "patient_id": patient_id,
        },
    )
    assert response.status_code == 201, response.text
    return serial


def test_same_readings_twice_and_with_new_header_ids_are_stored_once(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    start = now_minus(days=10)
    points = [weight_point(80 + i / 10, start + timedelta(hours=i)) for i in range(50)]
    resent = [{**p, "header": {**p["header"], "id": str(uuid.uuid4())}} for p in points]
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, points)
        client.publish_all(serial, points)
        client.publish_all(serial, [resent[:25], resent[25:]])  # also as arrays
        sentinel = weight_point(70, start - timedelta(days=1))
        client.publish_all(serial, [sentinel])
        assert wait_until(
            lambda: count(conn, "SELECT count(*) FROM readings WHERE value = 70") == 1
        )
    assert count(conn, "SELECT count(*) FROM readings") == 51
    assert count(conn, "SELECT count(*) FROM dead_letters") == 0
    assert client.errors == []


def test_mixed_array_stores_good_points_and_rejects_each_bad_one(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    at = now_minus(hours=5)
    good = [weight_point(81.0, at), weight_point(180.0, at + timedelta(minutes=1), unit="lb")]
    implausible = weight_point(900.0, at + timedelta(minutes=2))
    future = weight_point(80.0, now_minus(hours=-2))
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials["scale"], [[good[0], implausible, good[1], future]])
        client.publish_all(gw.serials["scale"], [b"{not json"])
        assert wait_until(lambda: len(client.errors) >= 3)
    rows = conn.execute(
        "SELECT value, original_value, original_unit FROM readings ORDER BY measured_at"
    ).fetchall()
    assert [(round(v, 3), o, u) for v, o, u in rows] == [(81.0, 81.0, "kg"), (81.647, 180.0, "lb")]
    codes = sorted(e["code"] for e in client.errors)
    assert codes == ["implausible_value", "malformed_json", "time_in_future"]
    by_code = {e["code"]: e for e in client.errors}
    assert by_code["implausible_value"]["header_id"] == implausible["header"]["id"]
    assert by_code["malformed_json"]["header_id"] is None
    letters = conn.execute("SELECT code, item_index FROM dead_letters ORDER BY code").fetchall()
    assert letters == [("implausible_value", 1), ("malformed_json", None), ("time_in_future", 3)]


def test_unknown_device_and_device_of_another_gateway_are_rejected(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    mine = provision(api, kinds=["scale"])
    other = provision(api, kinds=["scale"])
    at = now_minus(hours=1)
    with GatewayClient(settings, mine.gateway_id, mine.password) as client:
        client.publish_all("NO-SUCH-DEVICE", [weight_point(80, at)])
        client.publish_all(other.serials["scale"], [weight_point(80, at)])
        assert wait_until(lambda: len(client.errors) >= 2)
    assert sorted(e["code"] for e in client.errors) == ["device_not_on_gateway", "unknown_device"]
    assert count(conn, "SELECT count(*) FROM readings") == 0
    assert count(conn, "SELECT count(*) FROM dead_letters") == 2


@pytest.mark.parametrize("protocol", [MQTTProtocolVersion.MQTTv311, MQTTProtocolVersion.MQTTv5])
def test_broker_acl_keeps_gateways_to_their_own_topics(
    protocol: MQTTProtocolVersion,
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    worker: RunningWorker,
) -> None:
    a = provision(api, kinds=["scale"])
    b = provision(api, kinds=["scale"])
    at = now_minus(hours=3)
    b_topic = f"lastmile/v1/gateways/{b.gateway_id}/devices/{b.serials['scale']}/readings"
    with GatewayClient(settings, a.gateway_id, a.password, protocol=protocol) as client:
        assert client.connected
        client.publish(b.serials["scale"], weight_point(61.0, at), topic=b_topic)
    with GatewayClient(settings, b.gateway_id, "wrong-password", protocol=protocol) as wrong:
        assert not wrong.connected
    anonymous = GatewayClient(
        settings, "", "", protocol=protocol, client_id=f"anon-{uuid.uuid4().hex[:6]}"
    )
    with anonymous:
        assert not anonymous.connected
    # A reading B may send goes through: everything published before it has
    # been seen by the worker.
    with GatewayClient(settings, b.gateway_id, b.password, protocol=protocol) as client:
        client.publish_all(b.serials["scale"], [weight_point(62.0, at)])
    assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings WHERE value = 62") == 1)
    assert count(conn, "SELECT count(*) FROM readings WHERE value = 61") == 0
    assert count(conn, "SELECT count(*) FROM dead_letters") == 0


def test_a_heart_rate_during_exercise_is_stored_with_its_activity_and_raises_nothing(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["pulse_oximeter"])
    at = now_minus(hours=3)

    def hr(bpm: float, minutes: int, activity: str) -> dict[str, Any]:
        body = {
            "heart_rate": {"value": bpm, "unit": "beats/min"},
            "effective_time_frame": {"date_time": (at + timedelta(minutes=minutes)).isoformat()},
            "temporal_relationship_to_physical_activity": activity,
        }
        return wrap_body(body, "heart-rate", "2.0")

    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials["pulse_oximeter"], [hr(150, 0, "during exercise")])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1)
        assert count(conn, "SELECT count(*) FROM alerts") == 0
        client.publish_all(gw.serials["pulse_oximeter"], [hr(150, 30, "at rest")])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM alerts") == 1)
    rows = conn.execute("SELECT value, activity FROM readings ORDER BY measured_at").fetchall()
    assert rows == [(150.0, "during exercise"), (150.0, "at rest")]
    assert conn.execute("SELECT kind FROM alerts").fetchall() == [("hr_high",)]


def test_a_reading_arriving_checks_its_patients_other_measures_at_once(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale", "bp_cuff"])  # CHF: weight and BP daily
    conn.execute(
        "UPDATE patients SET enrolled_at = now() - interval '4 days' WHERE id = %s",
        (gw.patient_id,),
    )
    conn.commit()
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials["scale"], [weight_point(80.0, now_minus(minutes=5))])
        # The scheduled pass is minutes away; the check on arrival is not.
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM alerts") == 1)
    row = conn.execute(
        "SELECT a.kind, e.measure FROM alerts a JOIN alert_evidence e ON e.alert_id = a.id"
    ).fetchone()
    assert row == ("missed_readings", "blood-pressure")


def test_a_reading_sent_again_beside_a_new_one_is_not_scored_twice(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    """Scored twice, a low SpO2 would confirm itself and open a high alert."""
    gw = provision(api, kinds=["pulse_oximeter"])
    at = now_minus(hours=2)

    def spo2(value: float, minutes: int) -> dict[str, Any]:
        when = (at + timedelta(minutes=minutes)).isoformat()
        body = {
            "oxygen_saturation": {"value": value, "unit": "%"},
            "effective_time_frame": {"date_time": when},
        }
        return wrap_body(body, "oxygen-saturation", "2.0", header_id=f"spo2-{minutes}")

    def hr(bpm: float, minutes: int) -> dict[str, Any]:
        when = (at + timedelta(minutes=minutes)).isoformat()
        body = {"heart_rate": {"value": bpm, "unit": "beats/min"},
                "effective_time_frame": {"date_time": when}}  # fmt: skip
        return wrap_body(body, "heart-rate", "2.0")

    serial = gw.serials["pulse_oximeter"]
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, [spo2(86, 0)])  # below 88: waits for a repeat
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1)
        client.publish(serial, [spo2(86, 0), hr(72, 1)]).wait_for_publish(10)
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 2)
        time.sleep(0.5)  # the batch that stored the heart rate has committed its alerts too
        assert count(conn, "SELECT count(*) FROM alerts") == 0  # not its own repeat
        client.publish_all(serial, [spo2(86, 30)])  # a real repeat confirms it
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM alerts") == 1)
    rows = conn.execute("SELECT kind, severity FROM alerts").fetchall()
    assert rows == [("spo2_low", "high")]
    assert count(conn, "SELECT count(*) FROM alert_evidence") == 1
