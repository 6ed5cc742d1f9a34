"""The conformance kit against the real private broker, ingest worker and database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from click.testing import Result
from fastapi.testclient import TestClient

from hub.settings import Settings
from ingest.conformance.acl import run_acl_checks
from ingest.conformance.online import PROBE_PREFIX, probe_payload
from tests.conformance_support import invoke_kit
from tests.conftest import RunningWorker
from tests.support import (
    GatewayClient,
    ProvisionedGateway,
    count,
    now_minus,
    provision,
    wait_until,
    weight_point,
)

pytestmark = pytest.mark.services

KINDS = ("scale", "bp_cuff", "pulse_oximeter", "thermometer")


def run_kit(
    settings: Settings, gw: ProvisionedGateway, report: Path, *args: str, password: str = ""
) -> tuple[Result, dict[str, Any] | None]:
    """``lastmile conformance`` as the gateway, the password from the environment."""
    return invoke_kit(
        report,
        *("--host", settings.mqtt_host, "--port", str(settings.mqtt_port)),
        *("--gateway-id", gw.gateway_id, "--timeout", "20", *args),
        env={"LASTMILE_GATEWAY_PASSWORD": password or gw.password},
    )


def device_args(gw: ProvisionedGateway) -> list[str]:
    return [arg for kind in KINDS for arg in ("--device", f"{kind}={gw.serials[kind]}")]


def readings_of(conn: psycopg.Connection[Any], serial: str) -> int:
    return count(
        conn,
        "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device_id WHERE d.serial = %s",
        serial,
    )


@pytest.mark.parametrize("mqtt", ["3.1.1", "5"])
def test_shipped_samples_conform_and_the_report_agrees_with_the_database(
    mqtt: str,
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    worker: RunningWorker,
    tmp_path: Path,
) -> None:
    gw = provision(api, kinds=KINDS)
    report_path = tmp_path / "r.json"
    result, report = run_kit(settings, gw, report_path, "--mqtt", mqtt, *device_args(gw))
    assert result.exit_code == 0, result.output
    assert report is not None
    assert report["passed"]
    assert "PASS" in result.output.splitlines()[-1]
    rows = [(m["device_serial"], p) for m in report["messages"] for p in m["points"]]
    # Every measure and version, stored; every bad sample rejected with its code.
    for kind in KINDS:
        serial = gw.serials[kind]
        stored = sum(1 for s, p in rows if s == serial and p["result"] == "stored")
        assert stored == readings_of(conn, serial) > 0, kind
    expected_stored = sum(1 for _, p in rows if p["expected"] == "stored")
    assert count(conn, "SELECT count(*) FROM readings") == expected_stored
    rejected = [(s, p["header_id"], p["code"]) for s, p in rows if p["result"] == "rejected"]
    letters = set(
        conn.execute(
            "SELECT device_serial, header_id, code FROM dead_letters"
            " WHERE header_id IS NULL OR header_id NOT LIKE 'lastmile-probe-%'"
        ).fetchall()
    )
    assert set(rejected) == letters
    assert {code for *_, code in rejected} >= {
        "implausible_value", "time_in_future", "unit_unsupported", "schema_invalid",
        "schema_unsupported", "statistic_unsupported", "malformed_json",
        "measure_not_for_device", "unknown_device",
    }  # fmt: skip
    checks = {c["name"]: c["passed"] for c in report["checks"]}
    assert all(checks.values()), checks
    assert len(checks) == 13  # 8 ACL checks, connect, subscribe, online, probe, end
    # The session ended with the gateway offline (MQTT 5: by its Last Will).
    assert wait_until(
        lambda: (
            conn.execute("SELECT presence FROM gateways WHERE id = %s", (gw.gateway_id,)).fetchone()
            == ("offline",)
        )
    )


def test_an_unexpected_rejection_fails_the_run(
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    worker: RunningWorker,
    tmp_path: Path,
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    folder = tmp_path / "samples" / serial
    folder.mkdir(parents=True)
    good = weight_point(80.0, now_minus(hours=3), header_id="good")
    bad = weight_point(80.0, now_minus(hours=2), header_id="bad", unit="stone")
    (folder / "a-good.json").write_text(json.dumps(good))
    (folder / "b-bad.json").write_text(json.dumps([bad, {**good, "header": {**good["header"]}}]))
    samples = str(tmp_path / "samples")
    result, report = run_kit(settings, gw, tmp_path / "r.json", "--samples", samples, "--no-acl")
    assert result.exit_code == 1, result.output
    assert report is not None
    assert not report["passed"]
    first, second = report["messages"]
    assert first["passed"]
    assert first["points"][0]["result"] == "stored"
    assert not second["passed"]
    assert [(p["result"], p["code"], p["passed"]) for p in second["points"]] == [
        ("rejected", "schema_invalid", False),
        ("stored", None, True),  # the same reading again: stored once, no rejection
    ]
    assert readings_of(conn, serial) == 1
    assert "FAIL" in result.output.splitlines()[-1]


def test_wrong_credentials_fail_the_run_and_send_nothing(
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    worker: RunningWorker,
    tmp_path: Path,
) -> None:
    gw = provision(api, kinds=KINDS)
    wrong = "not-the-password"
    result, report = run_kit(settings, gw, tmp_path / "r.json", *device_args(gw), password=wrong)
    assert result.exit_code == 1, result.output
    assert report is not None
    assert report["messages"] == []
    assert [c["passed"] for c in report["checks"]][:2] == [True, False]
    assert "not-the-password" not in result.output
    assert count(conn, "SELECT count(*) FROM readings") == 0


def test_an_unreachable_broker_exits_3(settings: Settings, api: TestClient, tmp_path: Path) -> None:
    gw = provision(api, kinds=["scale"])
    result, report = run_kit(settings, gw, tmp_path / "r.json", "--port", "1")
    assert result.exit_code == 3, result.output
    assert report is None


def test_acl_checks_hold_on_the_real_broker(settings: Settings, api: TestClient) -> None:
    gw = provision(api, kinds=["scale"])
    checks = run_acl_checks(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        gateway_id=gw.gateway_id,
        password=gw.password,
        timeout=10,
    )
    failed = [c for c in checks if not c.passed]
    assert not failed, failed
    details = {c.name: c.detail for c in checks}
    assert details["publish to another gateway's readings topic is refused (0x87)"].startswith(
        "0x87"
    )
    assert "0x00" in details["connect as the gateway is accepted"]
    assert len(checks) == 8


def test_a_probe_after_an_outbox_flush_is_answered_after_every_earlier_rejection(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    """The guide's outbox technique: rejections of validation and of the registry, then the probe.

    Within a batch the hub records validation rejections before registry ones,
    so a probe rejected by validation would overtake an earlier message's
    ``unknown_device``; the kit's probe is rejected by the registry instead.
    """
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    outbox: list[tuple[str, dict[str, Any]]] = []
    for i in range(30):
        point = weight_point(60 + i, now_minus(hours=i + 1), header_id=f"outbox-{i}")
        if i % 3 == 1:
            point["body"]["body_weight"]["value"] = 900  # implausible_value
        target = "NOT-REGISTERED" if i % 3 == 2 else serial  # unknown_device
        outbox.append((target, point))
    probe_id = "probe-header"
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        infos = [client.publish(target, point) for target, point in outbox]
        infos.append(client.publish(f"{PROBE_PREFIX}x", orjson.loads(probe_payload(probe_id))))
        for info in infos:
            info.wait_for_publish(10)
        assert wait_until(lambda: any(e["header_id"] == probe_id for e in client.errors))
    answered = [e["header_id"] for e in client.errors]
    assert answered[-1] == probe_id
    assert sorted(answered[:-1]) == sorted(
        p["header"]["id"] for i, (_, p) in enumerate(outbox) if i % 3
    )
    assert readings_of(conn, serial) == 10
