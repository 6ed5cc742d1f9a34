"""Condition alerts resolve themselves when their condition clears, through the real hub.

Readings, status and meta messages go through the broker to a real ingest
worker; the scheduled pass (:func:`run_adherence_checks`) is called where
the worker's scheduler would run it minutes later. Each alert's
``resolved_automatically`` event must say what cleared it.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.schedule import hold_checks_lock, run_adherence_checks
from hub.db import connect
from hub.settings import Settings
from hub.topics import meta_topic, status_topic
from tests.conftest import RunningWorker
from tests.support import (
    GatewayClient,
    ProvisionedGateway,
    bp_point,
    count,
    now_minus,
    provision,
    wait_until,
    weight_point,
)

pytestmark = pytest.mark.services

ALLOWANCE = "is within its allowed 72 h (every 24 h, 48 h grace) again"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _alert(conn: psycopg.Connection[Any], patient: str, kind: str) -> tuple[str, str] | None:
    """(status, reason) of the patient's newest alert of ``kind``."""
    row = conn.execute(
        "SELECT status, reason FROM alerts WHERE patient_id = %s AND kind = %s"
        " ORDER BY id DESC LIMIT 1",
        (patient, kind),
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def _resolved(conn: psycopg.Connection[Any], patient: str, kind: str) -> bool:
    found = _alert(conn, patient, kind)
    return found is not None and found[0] == "resolved"


def _cleared_by(conn: psycopg.Connection[Any], patient: str, kind: str) -> str:
    """The note of the alert's ``resolved_automatically`` event (also its detail's cleared_by)."""
    [(note, detail, to_status)] = conn.execute(
        "SELECT e.note, e.detail, e.to_status FROM alert_events e"
        " JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.patient_id = %s AND a.kind = %s AND e.event = 'resolved_automatically'",
        (patient, kind),
    ).fetchall()
    assert to_status == "resolved"
    assert detail["cleared_by"] == note
    return str(note)


def _enrolled_days_ago(conn: psycopg.Connection[Any], gw: ProvisionedGateway, days: int) -> None:
    conn.execute(
        "UPDATE patients SET enrolled_at = now() - make_interval(days => %s) WHERE id = %s",
        (days, gw.patient_id),
    )
    conn.execute(
        "UPDATE devices SET registered_at = now() - make_interval(days => %s)"
        " WHERE patient_id = %s",
        (days, gw.patient_id),
    )


def _publish(
    settings: Settings,
    conn: psycopg.Connection[Any],
    gw: ProvisionedGateway,
    kind: str,
    points: list[dict[str, Any]],
) -> None:
    """Publish and wait until stored (the batch, with its checks, committed)."""
    expected = count(conn, "SELECT count(*) FROM readings") + len(points)
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish_all(gw.serials[kind], points)
    assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == expected)


def test_missed_readings_resolve_with_the_reading_that_resumes_the_last_missing_measure(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale", "bp_cuff"])  # CHF: daily weight and blood pressure
    _enrolled_days_ago(conn, gw, 10)
    days_ago = now_minus(days=5)
    _publish(settings, conn, gw, "scale", [weight_point(80, days_ago)])
    _publish(settings, conn, gw, "bp_cuff", [bp_point(128, 82, days_ago)])
    # Readings measured days ago are a backfill: nothing is judged on their arrival.
    assert count(conn, "SELECT count(*) FROM alerts") == 0

    run_adherence_checks(conn, now=datetime.now(UTC))
    opened = _alert(conn, gw.patient_id, "missed_readings")
    assert opened is not None
    assert opened[1].startswith("No body-weight reading for 12")

    # The weight resumes; the alert goes on about the blood pressure.
    _publish(settings, conn, gw, "scale", [weight_point(80.4, now_minus(minutes=3))])
    now_about_bp = _alert(conn, gw.patient_id, "missed_readings")
    assert now_about_bp is not None
    assert now_about_bp[0] == "open"
    assert now_about_bp[1].startswith("No blood-pressure reading for 12")

    # The blood pressure resumes (the patient was checked in full a moment ago, so
    # this batch only judges what its reading clears): resolved in its transaction.
    measured = now_minus(minutes=2)
    _publish(settings, conn, gw, "bp_cuff", [bp_point(126, 80, measured)])
    assert _resolved(conn, gw.patient_id, "missed_readings")
    assert _cleared_by(conn, gw.patient_id, "missed_readings") == (
        f"a blood-pressure reading measured {_utc(measured)} arrived; blood pressure {ALLOWANCE}"
    )
    measures = conn.execute(
        "SELECT e.measure FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.kind = 'missed_readings' ORDER BY e.id"
    ).fetchall()
    assert measures == [("body-weight",), ("blood-pressure",)]
    # The next pass finds nothing to say.
    run_adherence_checks(conn, now=datetime.now(UTC))
    assert count(conn, "SELECT count(*) FROM alerts WHERE kind = 'missed_readings'") == 1


def test_a_device_problem_resolves_when_the_measure_s_readings_resume(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["bp_cuff"])
    serial = gw.serials["bp_cuff"]
    _enrolled_days_ago(conn, gw, 10)
    _publish(settings, conn, gw, "bp_cuff", [bp_point(130, 85, now_minus(days=4))])
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        meta = {"battery_percent": 4, "reported_at": now_minus(hours=10).isoformat()}
        client.publish(serial, orjson.dumps(meta), topic=meta_topic(gw.gateway_id, serial))
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM device_meta") == 1)
    run_adherence_checks(conn, now=datetime.now(UTC))
    problem = _alert(conn, gw.patient_id, "device_problem")
    assert problem is not None
    assert "battery at 4 %" in problem[1]

    measured = now_minus(minutes=1)
    _publish(settings, conn, gw, "bp_cuff", [bp_point(131, 84, measured)])
    assert _resolved(conn, gw.patient_id, "device_problem")
    assert _cleared_by(conn, gw.patient_id, "device_problem") == (
        f"a blood-pressure reading measured {_utc(measured)} arrived; blood pressure {ALLOWANCE}"
    )
    # No scale: the weights the CHF pathway expects are missing still.
    assert _alert(conn, gw.patient_id, "missed_readings") == (
        "open",
        "No body-weight reading for 240 h since enrolment; the CHF pathway expects one every 24 h.",
    )


def test_device_never_active_resolves_at_the_first_reading_of_its_last_silent_device(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale", "bp_cuff"])
    _enrolled_days_ago(conn, gw, 5)
    run_adherence_checks(conn, now=datetime.now(UTC))
    assert _alert(conn, gw.patient_id, "device_never_active") is not None
    [(headline,)] = conn.execute(
        "SELECT d.serial FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id"
        " JOIN devices d ON d.id = (e.observed->>'device_id')::numeric::bigint"
        " WHERE a.kind = 'device_never_active'"
    ).fetchall()
    first = next(kind for kind, serial in gw.serials.items() if serial == headline)
    last = next(kind for kind in gw.serials if kind != first)
    at = now_minus(minutes=4)
    point = {"scale": weight_point(81, at), "bp_cuff": bp_point(120, 80, at)}

    # The headline device sends; the other is still waiting: the alert names it.
    _publish(settings, conn, gw, first, [point[first]])
    after_first = _alert(conn, gw.patient_id, "device_never_active")
    assert after_first is not None
    assert after_first[0] == "open"
    last_id = conn.execute(
        "SELECT id FROM devices WHERE serial = %s", (gw.serials[last],)
    ).fetchone()
    assert last_id is not None
    assert after_first[1].startswith(f"Device {last_id[0]} has sent no reading")

    _publish(settings, conn, gw, last, [point[last]])
    assert _resolved(conn, gw.patient_id, "device_never_active")
    activated = conn.execute(
        "SELECT activated_at FROM devices WHERE serial = %s", (gw.serials[last],)
    ).fetchone()
    assert activated is not None
    assert _cleared_by(conn, gw.patient_id, "device_never_active") == (
        f"device {gw.serials[last]} sent its first reading (received {_utc(activated[0])})"
    )


def test_a_gateway_that_says_online_resolves_its_gateway_offline_alert(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw, other = provision(api, kinds=["scale"]), provision(api, kinds=["scale"])
    conn.execute(
        "UPDATE gateways SET presence = 'offline', presence_at = now() - interval '30 hours'"
    )
    run_adherence_checks(conn, now=datetime.now(UTC))
    for one in (gw, other):
        assert _alert(conn, one.patient_id, "gateway_offline") is not None
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        client.publish("", b"online", topic=status_topic(gw.gateway_id)).wait_for_publish(5)
        assert wait_until(lambda: _resolved(conn, gw.patient_id, "gateway_offline"))
    back = conn.execute("SELECT presence_at FROM gateways WHERE id = %s", (gw.gateway_id,))
    [(at,)] = back.fetchall()
    cleared_by = f"gateway {gw.gateway_id} reported online at {_utc(at)}"
    assert _cleared_by(conn, gw.patient_id, "gateway_offline") == cleared_by
    # The alert's history in the API: who (the hub: no actor) and why.
    [listed] = api.get(
        "/api/v1/alerts", params={"status": "resolved", "patient_id": gw.patient_id}
    ).json()
    shown = api.get(f"/api/v1/alerts/{listed['id']}").json()
    assert shown["status"] == "resolved"
    assert [(e["event"], e["actor"], e["to_status"], e["note"]) for e in shown["history"]] == [
        ("opened", None, "open", None),
        ("resolved_automatically", None, "resolved", cleared_by),
    ]
    assert shown["history"][-1]["detail"] == {
        "cleared_by": cleared_by,
        "gateway_ids": [gw.gateway_id],
    }
    # The other patient's gateway is still offline; the scheduled pass agrees.
    run_adherence_checks(conn, now=datetime.now(UTC))
    assert _alert(conn, other.patient_id, "gateway_offline") == (
        "open",
        f"gateway {other.gateway_id} has been offline for 30 h (its Last Will): "
        "the patient's devices cannot send readings",
    )
    assert count(conn, "SELECT count(*) FROM alerts WHERE kind = 'gateway_offline'") == 2


def _daily_weights(*days_ago: float) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        weight_point(80, now - timedelta(days=d), header_id=str(uuid.uuid4())) for d in days_ago
    ]


def test_a_frequency_drop_resolves_once_the_rate_recovers_past_the_hysteresis(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    _enrolled_days_ago(conn, gw, 30)
    # A weight a day in the 14 days before the last 7, then one in the last 7.
    before = [20.5 - i for i in range(14)]
    _publish(settings, conn, gw, "scale", _daily_weights(*before, 6.5))
    run_adherence_checks(conn, now=datetime.now(UTC))
    drop = _alert(conn, gw.patient_id, "frequency_drop")
    assert drop is not None
    assert (
        drop[1] == "Body-weight readings fell to 0.14/day in the last 7 days from 1.00/day before."
    )

    # 4 in the last 7 days: above the alert's limit (0.4/day) but not recovered (0.7).
    _publish(settings, conn, gw, "scale", _daily_weights(5.5, 4.5, 3.5))
    run_adherence_checks(conn, now=datetime.now(UTC))
    assert _alert(conn, gw.patient_id, "frequency_drop") == ("open", drop[1])

    _publish(settings, conn, gw, "scale", _daily_weights(2.5))
    run_adherence_checks(conn, now=datetime.now(UTC))
    assert _resolved(conn, gw.patient_id, "frequency_drop")
    assert _cleared_by(conn, gw.patient_id, "frequency_drop") == (
        "Body weight readings are back to 0.71/day in the last 7 days, from 1.00/day in the "
        "14 days before (a drop clears at 0.7 times that rate)"
    )


def test_readings_that_land_while_the_scheduled_pass_runs_resolve_what_it_opened(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    """The race the checks' lock closes: the pass reads the facts before a batch commits."""
    gw = provision(api, kinds=["scale", "bp_cuff"])
    _enrolled_days_ago(conn, gw, 10)
    days_ago = now_minus(days=5)
    _publish(settings, conn, gw, "scale", [weight_point(80, days_ago)])
    _publish(settings, conn, gw, "bp_cuff", [bp_point(128, 82, days_ago)])
    stored = count(conn, "SELECT count(*) FROM readings")
    with connect(settings) as pass_conn, pass_conn.transaction():
        hold_checks_lock(pass_conn, exclusive=True)  # as the scheduler's pass does
        with GatewayClient(settings, gw.gateway_id, gw.password) as client:
            client.publish_all(gw.serials["scale"], [weight_point(80.2, now_minus(minutes=2))])
            client.publish_all(gw.serials["bp_cuff"], [bp_point(125, 80, now_minus(minutes=2))])
        time.sleep(1.0)
        # The batch is stored but waits, uncommitted, for the pass to finish.
        assert count(conn, "SELECT count(*) FROM readings") == stored
        run_adherence_checks(pass_conn, now=datetime.now(UTC))  # it cannot see them
    assert _alert(conn, gw.patient_id, "missed_readings") is not None
    assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == stored + 2)
    assert wait_until(lambda: _resolved(conn, gw.patient_id, "missed_readings"))
    note = _cleared_by(conn, gw.patient_id, "missed_readings")
    assert re.fullmatch(r"a (body-weight|blood-pressure) reading measured .+ UTC arrived; .+", note)
