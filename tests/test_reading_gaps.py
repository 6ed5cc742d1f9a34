"""The optional per-device sequence number (header.lastmile_sequence) and the gap alert.

Readings go through a real ingest worker; the periodic check runs at a clock
moved past the grace period, as the worker's scheduler would an hour later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.reading_gaps import GRACE, run_gap_checks
from hub.settings import Settings
from ingest.validation import Validator
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


def _numbered(sequence: Any, at: datetime) -> dict[str, Any]:
    point = weight_point(72.5, at)
    point["header"]["lastmile_sequence"] = sequence
    return point


@pytest.mark.parametrize("sequence", ["41", -1, 1.5, 42.0, True, None, 2**63])
def test_a_sequence_that_is_not_a_non_negative_integer_is_schema_invalid(sequence: Any) -> None:
    now = datetime.now(UTC)
    payload = orjson.dumps(_numbered(sequence, now - timedelta(hours=1)))
    message = Validator(future_tolerance=timedelta(minutes=5)).parse(payload, now=now)
    assert message.points == ()
    [rejection] = message.rejections
    assert rejection.code.value == "schema_invalid"
    assert "lastmile_sequence" in rejection.detail


def test_a_sequence_is_kept_and_none_without_one() -> None:
    now = datetime.now(UTC)
    validator = Validator(future_tolerance=timedelta(minutes=5))
    payloads = [_numbered(0, now), _numbered(2**63 - 1, now), weight_point(70, now)]
    message = validator.parse(orjson.dumps(payloads), now=now)
    assert [point.sequence for _, point in message.points] == [0, 2**63 - 1, None]


def _publish(
    settings: Settings,
    conn: psycopg.Connection[Any],
    gateway: ProvisionedGateway,
    points: list[dict[str, Any]],
) -> None:
    expected = count(conn, "SELECT count(*) FROM readings") + len(points)
    with GatewayClient(settings, gateway.gateway_id, gateway.password) as client:
        client.publish_all(gateway.serials["scale"], points)
    assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == expected)


def _series(numbers: range | list[int]) -> list[dict[str, Any]]:
    start = now_minus(days=3)
    return [_numbered(n, start + n * timedelta(minutes=30)) for n in numbers]


def _gap_alerts(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT a.severity, a.reason, e.source FROM alerts a"
        " JOIN alert_evidence e ON e.alert_id = a.id WHERE a.kind = 'reading_gap'"
    ).fetchall()
    return [(str(s), str(r), str(src)) for s, r, src in rows]


@pytest.mark.services
def test_a_hole_older_than_the_grace_gives_one_alert_naming_the_range(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    _publish(settings, conn, gw, _series([*range(30, 41), *range(44, 50)]))
    stored = count(conn, "SELECT count(*) FROM readings WHERE sequence IS NOT NULL")
    assert stored == 17
    now = datetime.now(UTC)
    # Within the grace period: resends may still come.
    assert run_gap_checks(conn, now=now) == 0
    later = now + GRACE + timedelta(minutes=1)
    assert run_gap_checks(conn, now=later) == 1
    reason = f"device {serial}: readings 41 to 43 of its sequence never arrived"
    assert _gap_alerts(conn) == [("low", reason, "rule:reading_gap")]
    # Not raised again for the same hole, nor after the alert is resolved.
    assert run_gap_checks(conn, now=later + timedelta(hours=1)) == 0
    conn.execute("UPDATE alerts SET status = 'resolved', resolved_at = now()")
    assert run_gap_checks(conn, now=later + timedelta(hours=2)) == 0
    assert count(conn, "SELECT count(*) FROM alerts") == 1


@pytest.mark.services
def test_a_hole_filled_by_a_resend_and_readings_without_sequence_raise_nothing(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    numbered, plain = provision(api, kinds=["scale"]), provision(api, kinds=["scale"])
    series = _series(range(1, 11))
    _publish(settings, conn, numbered, series[:4] + series[7:])
    _publish(settings, conn, numbered, series[4:7])  # the gateway's resend
    start = now_minus(days=2)
    _publish(settings, conn, plain, [weight_point(80, start + timedelta(hours=h)) for h in (0, 5)])
    later = datetime.now(UTC) + GRACE + timedelta(minutes=1)
    assert run_gap_checks(conn, now=later) == 0
    assert _gap_alerts(conn) == []


@pytest.mark.services
def test_the_resends_that_fill_every_hole_resolve_the_gap_alert_and_say_so(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    series = {p["header"]["lastmile_sequence"]: p for p in _series(range(38, 50))}
    _publish(settings, conn, gw, [series[n] for n in (38, 39, 40, 44, 46, 47, 48, 49)])
    later = datetime.now(UTC) + GRACE + timedelta(minutes=1)
    assert run_gap_checks(conn, now=later) == 2
    # One alert; its headline is the newest hole reported.
    [(status, reason)] = conn.execute("SELECT status, reason FROM alerts").fetchall()
    assert (status, reason) == (
        "open",
        f"device {serial}: reading 45 of its sequence never arrived",
    )

    # The gateway resends 45: one hole is left, and the alert names it.
    _publish(settings, conn, gw, [series[45]])
    assert conn.execute("SELECT status, reason FROM alerts").fetchall() == [
        ("open", f"device {serial}: readings 41 to 43 of its sequence never arrived")
    ]
    # Then 41 to 43: resolved by the batch that stored them.
    _publish(settings, conn, gw, [series[n] for n in (41, 42, 43)])
    assert conn.execute("SELECT status FROM alerts").fetchall() == [("resolved",)]
    [(note, detail)] = conn.execute(
        "SELECT note, detail FROM alert_events WHERE event = 'resolved_automatically'"
    ).fetchall()
    assert (
        note
        == detail["cleared_by"]
        == (
            f"the missing readings arrived: device {serial} readings 41 to 43, "
            f"device {serial} reading 45"
        )
    )
    # Holes are reported once: nothing opens again.
    assert run_gap_checks(conn, now=later + timedelta(hours=1)) == 0
    assert count(conn, "SELECT count(*) FROM alerts") == 1
