"""The device life cycle on the real database and broker: registered → active → silent →
active → retired, replacement, and disabled devices whose readings are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from devices.lifecycle import mark_silent_devices
from hub.settings import Settings
from tests.conftest import RunningWorker
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services


def _status(conn: psycopg.Connection[Any], serial: str) -> str:
    row = conn.execute("SELECT status FROM devices WHERE serial = %s", (serial,)).fetchone()
    assert row is not None
    return str(row[0])


def _events(conn: psycopg.Connection[Any], serial: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT e.from_status, e.to_status, e.actor FROM device_events e"
        " JOIN devices d ON d.id = e.device_id WHERE d.serial = %s ORDER BY e.id",
        (serial,),
    ).fetchall()


def _readings(conn: psycopg.Connection[Any], serial: str) -> int:
    return count(
        conn,
        "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device_id WHERE d.serial = %s",
        serial,
    )


def _dead(conn: psycopg.Connection[Any], serial: str, code: str) -> int:
    return count(
        conn,
        "SELECT count(*) FROM dead_letters WHERE device_serial = %s AND code = %s",
        serial,
        code,
    )


def test_registered_active_silent_active_retired_with_the_history(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])  # CHF: a daily weight
    serial = gw.serials["scale"]
    assert _status(conn, serial) == "registered"
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, [weight_point(80, now_minus(hours=1))])
        assert wait_until(lambda: _status(conn, serial) == "active")
        last = conn.execute(
            "SELECT last_reading_at FROM devices WHERE serial = %s", (serial,)
        ).fetchone()
        assert last is not None
        assert last[0] is not None

        # CHF weighs daily; 24 h + 48 h grace = 72 h without a reading is silence.
        assert mark_silent_devices(conn, now=last[0] + timedelta(hours=71)) == []
        assert len(mark_silent_devices(conn, now=last[0] + timedelta(hours=73))) == 1
        assert _status(conn, serial) == "silent"

        client.publish_all(serial, [weight_point(80.2, now_minus(minutes=5))])
        assert wait_until(lambda: _status(conn, serial) == "active")

        retired = api.post(f"/api/v1/devices/{serial}/retire", json={"reason": "returned"})
        assert retired.status_code == 200, retired.text
        assert retired.json()["status"] == "retired"
        client.publish_all(serial, [weight_point(81, now_minus(minutes=1))])
        assert wait_until(lambda: _dead(conn, serial, "device_retired") == 1)
        assert wait_until(lambda: any(e["code"] == "device_retired" for e in client.errors))
    assert _readings(conn, serial) == 2
    assert _events(conn, serial) == [
        (None, "registered", "service"),
        ("registered", "active", "ingest"),
        ("active", "silent", "silence-check"),
        ("silent", "active", "ingest"),
        ("active", "retired", "service"),
    ]
    # Retired is final.
    again = api.post(f"/api/v1/devices/{serial}/enable")
    assert again.status_code == 409, again.text


def test_a_device_measuring_nothing_its_pathway_schedules_never_turns_silent(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["pulse_oximeter"])  # CHF schedules weight and BP only
    conn.execute(
        "UPDATE devices SET status = 'active', last_reading_at = now() - interval '30 days'"
        " WHERE serial = %s",
        (gw.serials["pulse_oximeter"],),
    )
    assert mark_silent_devices(conn, now=now_minus(seconds=0)) == []


def test_a_replacement_keeps_the_patients_series_continuous(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    old = gw.serials["scale"]
    new = "SC-REPLACEMENT-1"
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(
            old, [weight_point(80 + i / 10, now_minus(days=6 - i)) for i in range(3)]
        )
        assert wait_until(lambda: _readings(conn, old) == 3)
        swapped = api.post(f"/api/v1/devices/{old}/replace", json={"serial": new})
        assert swapped.status_code == 200, swapped.text
        body = swapped.json()
        assert body["retired"]["status"] == "retired"
        assert body["retired"]["replaced_by"] == new
        assert body["replacement"]["status"] == "registered"
        assert body["replacement"]["kind"] == "scale"
        client.publish_all(
            new, [weight_point(80.5 + i / 10, now_minus(days=3 - i)) for i in range(3)]
        )
        client.publish_all(old, [weight_point(79, now_minus(hours=1))])  # the old one, again
        assert wait_until(lambda: _readings(conn, new) == 3)
        assert wait_until(lambda: _dead(conn, old, "device_retired") == 1)
    assert _readings(conn, old) == 3
    series = api.get(
        f"/api/v1/patients/{gw.patient_id}/readings",
        params={"measure": "body-weight"},
    )
    assert series.status_code == 200, series.text
    values = [p["value"] for p in series.json()["points"]]
    assert values == pytest.approx([80.0, 80.1, 80.2, 80.5, 80.6, 80.7])
    devices = api.get(f"/api/v1/patients/{gw.patient_id}/devices").json()
    assert [(d["serial"], d["status"], d["replaced_by"]) for d in devices] == [
        (new, "active", None),
        (old, "retired", new),
    ]
    detail = api.get(f"/api/v1/devices/{new}").json()
    assert next((e["to_status"], e["reason"]) for e in detail["events"]) == (
        "registered",
        f"replaces {old}",
    )


def test_a_disabled_device_is_refused_and_nothing_is_stored_until_enabled(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    disabled = api.post(f"/api/v1/devices/{serial}/disable", json={"reason": "lost"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(serial, [weight_point(80, now_minus(hours=2 + i)) for i in range(3)])
        assert wait_until(lambda: _dead(conn, serial, "device_disabled") == 3)
        assert wait_until(lambda: len(client.errors) == 3)
        assert {e["code"] for e in client.errors} == {"device_disabled"}
        assert {e["device_serial"] for e in client.errors} == {serial}
        assert _readings(conn, serial) == 0

        enabled = api.post(f"/api/v1/devices/{serial}/enable")
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["status"] == "registered"  # it never sent a reading
        client.publish_all(serial, [weight_point(80, now_minus(hours=1))])
        assert wait_until(lambda: _readings(conn, serial) == 1)
    assert _status(conn, serial) == "active"
    actions = [
        row[0]
        for row in conn.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'device.%%' ORDER BY id"
        )
    ]
    assert actions == [f"device.disable {serial}", f"device.enable {serial}"]
    patients = {
        row[0]
        for row in conn.execute(
            "SELECT patient_id::text FROM audit_log WHERE action LIKE 'device.%%'"
        )
    }
    assert patients == {gw.patient_id}
