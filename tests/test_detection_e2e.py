"""Detection through the real pipeline: a kill -9 changes no alert."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from hub.db import connect
from hub.settings import Settings
from ingest.session import spawn_ingest
from tests.conftest import fresh_database
from tests.streaming_e2e_helpers import Script, scripted_cohort
from tests.support import GatewayClient, count, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

START = datetime(2026, 9, 1, tzinfo=UTC)


def _provision(api: TestClient, scripts: list[Script]) -> dict[str, tuple[str, str, str, str]]:
    out = {}
    for script in scripts:
        patient = api.post(
            "/api/v1/patients",
            json={"identifiers": [{"system": "urn:test", "value": script.name}], "pathway": "CHF"},
        ).json()
        gateway = api.post("/api/v1/gateways", json={}).json()
        serials = []
        for kind in ("scale", "bp_cuff"):
            serial = f"{script.name}-{kind}"
            response = api.post(
                "/api/v1/devices",
                json={
                    "serial": serial,
                    "kind": kind,
                    "gateway_id": gateway["id"],
                    "patient_id": patient["id"],
                },
            )
            assert response.status_code == 201, response.text
            serials.append(serial)
        out[script.name] = (gateway["id"], gateway["mqtt_password"], serials[0], serials[1])
    return out


def _run(
    settings: Settings, scripts: list[Script], *, kills: int, log: Path
) -> tuple[set[Any], set[Any]]:
    with TestClient(
        create_app(settings),
        headers={"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"},
    ) as api:
        creds = _provision(api, scripts)
    worker = spawn_ingest(settings, log=log)
    total = sum(len(s.scale) + len(s.cuff) for s in scripts)
    days = len(scripts[0].scale)
    kill_days = {int(days * f) for f in (0.35, 0.7)[:kills]}
    try:
        with connect(settings) as conn:
            conn.autocommit = True
            clients = {
                name: GatewayClient(settings, gw, pw).__enter__()
                for name, (gw, pw, _, _) in creds.items()
            }
            try:
                first = scripts[0]
                # until the worker's session exists, resend the first reading (stored once)
                for _ in range(40):
                    clients[first.name].publish_all(creds[first.name][2], [first.scale[0]])
                    if wait_until(
                        lambda: count(conn, "SELECT count(*) FROM readings") == 1, timeout=0.5
                    ):
                        break
                for day in range(days):
                    if day in kill_days:
                        worker.send_signal(signal.SIGKILL)
                        worker.wait(timeout=10)
                        time.sleep(0.3)
                        worker = spawn_ingest(settings, log=log)
                    for script in scripts:
                        _, _, scale, cuff = creds[script.name]
                        clients[script.name].publish_all(scale, [script.scale[day]])
                        clients[script.name].publish_all(cuff, [script.cuff[day]])
            finally:
                for client in clients.values():
                    client.__exit__(None, None, None)
            assert wait_until(
                lambda: count(conn, "SELECT count(*) FROM readings") == total, timeout=60
            ), log.read_text()
            alerts = conn.execute(
                "SELECT i.value, a.kind, a.severity, a.source, a.status FROM alerts a"
                " JOIN patient_identifiers i ON i.patient_id = a.patient_id"
            ).fetchall()
            evidence = conn.execute(
                "SELECT i.value, a.kind, e.source, e.severity, e.window_start, e.window_end,"
                " e.observed::text FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id"
                " JOIN patient_identifiers i ON i.patient_id = a.patient_id"
            ).fetchall()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert len(alerts) == len(set(alerts))
    return set(alerts), set(evidence)


def test_kill_9_gives_the_alerts_of_an_uninterrupted_run(
    services: Settings, tmp_path: Path
) -> None:
    scripts = scripted_cohort(START, days=40)
    with fresh_database(services) as settings:
        calm_alerts, calm_evidence = _run(settings, scripts, kills=0, log=tmp_path / "calm.log")
    with fresh_database(services) as settings:
        killed_alerts, killed_evidence = _run(
            settings, scripts, kills=2, log=tmp_path / "killed.log"
        )
    kinds = {(name, kind) for name, kind, *_ in calm_alerts}
    # the scripted episodes are found: fluid gain in sim-0 and sim-3, a crisis in sim-1
    assert {("sim-0", "weight_gain"), ("sim-3", "weight_gain"), ("sim-1", "bp_high")} <= kinds
    assert killed_alerts == calm_alerts
    assert killed_evidence == calm_evidence
