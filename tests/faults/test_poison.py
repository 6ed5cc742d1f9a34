"""Poison messages mixed into a steady stream of valid readings (issue #7, item 5).

The real ingest worker runs as a child process; several gateways publish
valid readings at a steady rate with every kind of bad input of
:mod:`tests.faults.poison_cases` spread through them. Counted in the
database at the end: every valid reading stored exactly once, every bad
input one dead letter with its code, each told once on its gateway's errors
topic; the worker never exited, reconnected or logged an error, and the
broker holds nothing unacknowledged for its session.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.settings import Settings
from hub.topics import readings_topic
from ingest.session import spawn_ingest
from tests.faults.poison_cases import Case, Clock, Targets, poison_round, valid
from tests.proof import Profile, ProofRow
from tests.support import GatewayClient, ProvisionedGateway, count, provision, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

#: Messages per second from each gateway.
RATE = 200
_CHUNK = 50


def _plan(gw: ProvisionedGateway, foreign: str, *, valid_n: int, rounds: int, settings: Settings
          ) -> list[Case]:  # fmt: skip
    """The gateway's messages: ``valid_n`` readings with ``rounds`` of poison spread evenly."""
    now = datetime.now(UTC)
    clock = Clock(now - timedelta(days=60))
    serial = gw.serials["scale"]
    targets = Targets(gw.gateway_id, serial, foreign)
    poison = [
        case
        for _ in range(rounds)
        for case in poison_round(
            targets,
            clock,
            now=now,
            max_bytes=settings.max_message_bytes,
            max_points=settings.max_points_per_message,
        )
    ]
    topic = readings_topic(gw.gateway_id, serial)
    plan: list[Case] = []
    every = max(1, valid_n // len(poison))
    for n in range(valid_n):
        if n % every == 0 and poison:
            plan.append(poison.pop(0))
        plan.append(Case("valid", topic, orjson.dumps(valid(clock)), stored=1))
    return plan + poison


def _publish(client: GatewayClient, plan: list[Case], failures: list[BaseException]) -> None:
    """Send ``plan`` at :data:`RATE` messages a second, each acknowledged by the broker."""
    start = time.monotonic()
    try:
        for first in range(0, len(plan), _CHUNK):
            infos = [
                client.publish("", c.payload, topic=c.topic) for c in plan[first : first + _CHUNK]
            ]
            for info in infos:
                info.wait_for_publish(30)
                assert info.is_published(), "broker did not acknowledge a publish"
            ahead = start + (first + _CHUNK) / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    except (OSError, AssertionError, ValueError, RuntimeError) as exc:  # reported by the test
        failures.append(exc)


def _await_session(settings: Settings, gw: ProvisionedGateway, conn: psycopg.Connection[Any]
                   ) -> None:  # fmt: skip
    """Resend one reading until stored: then the worker has subscribed."""
    sentinel = orjson.dumps(valid(Clock(datetime.now(UTC) - timedelta(days=90))))
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        for _ in range(60):
            client.publish_all(gw.serials["scale"], [sentinel])
            if wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 1, timeout=1):
                return
    pytest.fail("the ingest worker never stored the first reading")


def _left_for_session(
    settings: Settings, client_id: str, *, listen_s: float = 3
) -> tuple[bool, int]:
    """Reconnect as the (stopped) ingest session: (session present, messages redelivered)."""
    received: list[int] = []
    present = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=MQTTProtocolVersion.MQTTv311,
        manual_ack=True,
    )
    client.username_pw_set(
        settings.mqtt_hub_username, settings.mqtt_hub_password.get_secret_value()
    )

    def on_connect(c: mqtt.Client, u: object, flags: mqtt.ConnectFlags, r: Any, p: Any) -> None:
        if flags.session_present:
            present.set()

    client.on_connect = on_connect
    client.on_message = lambda c, u, msg: received.append(msg.mid)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        time.sleep(listen_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return present.is_set(), len(received)


def _log_problems(log: Path) -> list[str]:
    """Log events that mean trouble: errors, tracebacks, batches that failed."""
    problems = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            problems.append(line)  # not one of ours: a traceback on stderr
            continue
        serious = event.get("level") in ("error", "critical") or "exc" in event
        if serious or "failed" in str(event.get("event")):
            problems.append(line)
    return problems


def test_poison_messages_are_rejected_once_and_valid_readings_all_stored(
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    tmp_path: Path,
    proof: ProofRow,
    proof_profile: Profile,
) -> None:
    n_gateways = proof_profile.pick(ci=3, full=6)
    valid_n = proof_profile.pick(ci=600, full=20_000)
    rounds = proof_profile.pick(ci=1, full=5)
    gateways = [provision(api, kinds=["scale"]) for _ in range(n_gateways)]
    plans = [
        _plan(gw, gateways[(i + 1) % n_gateways].serials["scale"], valid_n=valid_n,
              rounds=rounds, settings=settings)
        for i, gw in enumerate(gateways)
    ]  # fmt: skip
    cases = [c for plan in plans for c in plan]
    expected_stored = 1 + sum(c.stored for c in cases)  # 1: the first reading
    expected_codes = Counter(
        (gw.gateway_id, code) for gw, plan in zip(gateways, plans, strict=True)
        for c in plan for code in c.codes
    )  # fmt: skip
    bad = sum(expected_codes.values())
    kinds = len({c.name for c in cases if c.bad})
    proof.load = (
        f"{n_gateways} gateways x {valid_n:,} readings at {RATE}/s, {rounds} round(s) of "
        f"{kinds} kinds of bad input each"
    )
    proof.faults = "poison messages mixed into valid traffic"
    proof.published, proof.bad_tried = expected_stored, bad

    log = tmp_path / "ingest.log"
    worker = spawn_ingest(settings, log=log, log_level="INFO")
    try:
        _await_session(settings, gateways[0], conn)
        failures: list[BaseException] = []
        with ExitStack() as stack:
            clients = [
                stack.enter_context(GatewayClient(settings, gw.gateway_id, gw.password))
                for gw in gateways
            ]
            threads = [
                threading.Thread(target=_publish, args=(client, plan, failures))
                for client, plan in zip(clients, plans, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
            assert not failures, failures
            timeout = proof_profile.pick(ci=120, full=900)
            wait_until(
                lambda: (
                    count(conn, "SELECT count(*) FROM readings") >= expected_stored
                    and count(conn, "SELECT count(*) FROM dead_letters") >= bad
                ),
                timeout=timeout,
            )
            time.sleep(1)  # anything late or extra shows up now
            proof.stored = stored = count(conn, "SELECT count(*) FROM readings")
            distinct = count(conn, "SELECT count(DISTINCT header_id) FROM readings")
            proof.duplicated, proof.lost = stored - distinct, max(0, expected_stored - distinct)
            rows = conn.execute("SELECT gateway_id, code, count(*) FROM dead_letters GROUP BY 1, 2")
            got_codes = Counter({(gw, code): n for gw, code, n in rows})
            proof.bad_rejected = sum((got_codes & expected_codes).values())
            assert stored == distinct == expected_stored
            assert got_codes == expected_codes
            # each rejection told once on its gateway's errors topic
            for gw, client in zip(gateways, clients, strict=True):
                mine = Counter(
                    {code: n for (g, code), n in expected_codes.items() if g == gw.gateway_id}
                )
                wait_until(lambda: len(client.errors) >= mine.total(), timeout=60)  # noqa: B023
            time.sleep(1)
            for gw, client in zip(gateways, clients, strict=True):
                mine = Counter(
                    {code: n for (g, code), n in expected_codes.items() if g == gw.gateway_id}
                )
                assert Counter(e["code"] for e in client.errors) == mine, gw.gateway_id
            assert count(conn, "SELECT count(*) FROM dead_letters WHERE notified_at IS NULL") == 0
        # zero restarts: the one process is alive, connected once, logged no error
        assert worker.poll() is None, log.read_text()
        events = [orjson.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
        assert sum(e.get("event") == "mqtt connected" for e in events) == 1
        assert _log_problems(log) == []
    finally:
        worker.terminate()
        code = worker.wait(timeout=30)
    assert code == 0, log.read_text()[-2000:]
    # every message was acknowledged: the stopped session has nothing left to redeliver
    assert _left_for_session(settings, settings.mqtt_ingest_client_id) == (True, 0)


def test_the_worker_log_check_sees_trouble(tmp_path: Path) -> None:
    """The log check fails on an error event, a traceback and a failed batch; not on info."""
    log = tmp_path / "ingest.log"
    lines = [
        {"level": "info", "event": "reading rejected", "code": "malformed_json"},
        {"level": "error", "event": "mqtt subscription refused"},
        {"level": "warning", "event": "batch failed; storing it again on its own"},
        {"level": "info", "event": "x", "exc": "Traceback ..."},
    ]
    text = "\n".join(orjson.dumps(line).decode() for line in lines)
    log.write_text(text + "\nTraceback (most recent call last):\n", encoding="utf-8")
    assert len(_log_problems(log)) == 4
    assert _log_problems(log)[0].startswith('{"level":"error"')
