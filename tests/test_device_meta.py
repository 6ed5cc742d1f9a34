"""Device metadata on its meta topic, the patient's devices API, and device problems
told apart from non-adherence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.schedule import run_adherence_checks
from hub.settings import Settings
from hub.topics import meta_topic
from tests.conftest import RunningWorker
from tests.support import GatewayClient, count, now_minus, provision, wait_until

pytestmark = pytest.mark.services


def _send_meta(client: GatewayClient, serial: str, payload: Any) -> None:
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    info = client.publish(serial, data, topic=meta_topic(client.gateway_id, serial))
    info.wait_for_publish(10)
    assert info.is_published()


def test_meta_reports_are_validated_kept_newest_first_and_shown_with_the_devices(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    other = provision(api, kinds=["bp_cuff"])
    serial = gw.serials["scale"]
    newer, older = now_minus(hours=1), now_minus(hours=3)
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        _send_meta(
            client,
            serial,
            {"battery_percent": 64, "firmware": "2.4.1", "signal_dbm": -71.4,
             "reported_at": newer.isoformat()},
        )  # fmt: skip
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM device_meta") == 1)
        _send_meta(client, serial, {"battery_percent": 90, "reported_at": older.isoformat()})
        bad = [
            (serial, b"{not json", "malformed_json"),
            (serial, {"battery_percent": 120}, "schema_invalid"),
            (serial, {"battery": 5}, "schema_invalid"),
            (serial, {}, "schema_invalid"),
            (
                serial,
                {"battery_percent": 5, "reported_at": "2030-01-01T00:00:00"},
                "schema_invalid",
            ),
            (serial, {"firmware": "1", "reported_at": "2999-01-01T00:00:00Z"}, "time_in_future"),
            ("NO-SUCH-SERIAL", {"battery_percent": 5}, "unknown_device"),
            (other.serials["bp_cuff"], {"battery_percent": 5}, "device_not_on_gateway"),
        ]
        for target, payload, _ in bad:
            _send_meta(client, target, payload)
        assert wait_until(lambda: len(client.errors) == len(bad))
    assert sorted(e["code"] for e in client.errors) == sorted(code for _, _, code in bad)
    assert all(e["header_id"] is None and e["detail"] for e in client.errors)
    dead = "SELECT count(*) FROM dead_letters WHERE topic LIKE '%%/meta'"
    assert count(conn, dead) == len(bad)
    # The older report, forwarded late, changed nothing.
    assert conn.execute(
        "SELECT battery_percent, firmware, signal_dbm, reported_at FROM device_meta"
    ).fetchall() == [(64, "2.4.1", -71, newer)]

    [shown] = api.get(f"/api/v1/patients/{gw.patient_id}/devices").json()
    assert shown["serial"] == serial
    assert shown["status"] == "registered"
    assert (shown["battery_percent"], shown["firmware"], shown["signal_dbm"]) == (64, "2.4.1", -71)
    assert shown["gateway_id"] == gw.gateway_id
    assert shown["gateway_status"] == "active"


def _overdue_cuff(api: TestClient, conn: psycopg.Connection[Any]) -> tuple[Any, str, Any]:
    """An HTN patient whose cuff sent its last reading four days ago; (patient, serial, now)."""
    patient = api.post("/api/v1/patients", json={"pathway": "HTN"}).json()["id"]
    gateway = api.post("/api/v1/gateways", json={}).json()["id"]
    serial = "BP-OVERDUE-1"
    made = api.post(
        "/api/v1/devices",
        json={"serial": serial, "kind": "bp_cuff", "gateway_id": gateway, "patient_id": patient},
    )
    assert made.status_code == 201, made.text
    conn.execute(
        "UPDATE patients SET enrolled_at = now() - interval '9 days' WHERE id = %s", (patient,)
    )
    conn.execute(
        "INSERT INTO measure_latest VALUES (%s, 'blood-pressure', now() - interval '4 days',"
        " now() - interval '4 days')",
        (patient,),
    )
    return patient, gateway, now_minus(seconds=0)


def _alert(conn: psycopg.Connection[Any], patient: Any) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT kind, reason FROM alerts WHERE patient_id = %s ORDER BY id", (patient,)
    ).fetchall()


def test_overdue_readings_with_a_low_battery_are_a_device_problem(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    patient, _, now = _overdue_cuff(api, conn)
    conn.execute(
        "INSERT INTO device_meta SELECT id, 4, NULL, NULL, %s, %s FROM devices"
        " WHERE patient_id = %s",
        (now - timedelta(hours=20), now - timedelta(hours=20), patient),
    )
    run_adherence_checks(conn, now=now)
    [(kind, reason)] = _alert(conn, patient)
    assert kind == "device_problem"
    assert "battery at 4 %" in reason
    assert "BP-OVERDUE-1" in reason


def test_overdue_readings_behind_an_offline_gateway_are_a_device_problem(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    patient, gateway, now = _overdue_cuff(api, conn)
    conn.execute(
        "UPDATE gateways SET presence = 'offline', presence_at = %s WHERE id = %s",
        (now - timedelta(hours=3), gateway),
    )
    run_adherence_checks(conn, now=now)
    kinds = dict(_alert(conn, patient))
    assert set(kinds) == {"device_problem"}
    assert f"gateway {gateway} has been offline since" in kinds["device_problem"]


def test_overdue_readings_with_a_healthy_device_are_missed_readings(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    patient, _, now = _overdue_cuff(api, conn)
    # A low battery reported long ago (before a change of batteries) explains nothing.
    conn.execute(
        "INSERT INTO device_meta SELECT id, 3, NULL, NULL, %s, %s FROM devices"
        " WHERE patient_id = %s",
        (now - timedelta(days=5), now - timedelta(days=5), patient),
    )
    run_adherence_checks(conn, now=now)
    assert [kind for kind, _ in _alert(conn, patient)] == ["missed_readings"]


def test_a_device_problem_found_later_resolves_the_missed_readings_alert(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    patient, _, now = _overdue_cuff(api, conn)
    run_adherence_checks(conn, now=now - timedelta(hours=2))
    assert [kind for kind, _ in _alert(conn, patient)] == ["missed_readings"]
    conn.execute(
        "INSERT INTO device_meta SELECT id, 2, NULL, NULL, %s, %s FROM devices"
        " WHERE patient_id = %s",
        (now - timedelta(hours=1), now - timedelta(hours=1), patient),
    )
    run_adherence_checks(conn, now=now)
    states = conn.execute(
        "SELECT kind, status FROM alerts WHERE patient_id = %s ORDER BY id", (patient,)
    ).fetchall()
    assert states == [("missed_readings", "resolved"), ("device_problem", "open")]
    events = conn.execute(
        "SELECT e.event FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.patient_id = %s AND a.kind = 'missed_readings' ORDER BY e.id",
        (patient,),
    ).fetchall()
    assert events[-1] == ("resolved_automatically",)
