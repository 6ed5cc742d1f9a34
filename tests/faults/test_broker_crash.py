"""Issue #7, fault 3 (crash part): the broker SIGKILLed, and the gateways' outbox.

Mosquitto keeps sessions and queued messages in memory and writes them to
disk every ``autosave_interval`` seconds and on a graceful stop. A crash loses
what it acknowledged since its last save: that is its recovery point
(docs/integration.md, section 7). The first test measures it exactly: with
the ingest worker away, the reference gateway publishes a first part, the
broker saves (SIGUSR1), a second part is acknowledged, the broker is killed.
After the restart, stored == the first part; the second part, acknowledged
by the broker, is gone until the gateway's outbox resends it.

The second test runs the reference gateway (ingest/conformance/gateway.py)
with the worker present: the broker is killed mid-stream, and later the
gateway itself restarts from its on-disk outbox. Its resends make the
database hold every reading it produced, once. The hub's own session must be
in the broker's last save for that: a crash that loses the session loses its
subscriptions too, and until the worker reconnects the broker acknowledges
readings and drops them for want of a subscriber. The worker asks its own
broker to save as soon as a new session's subscriptions are granted
(``ingest.session.persist_new_session``); the third test kills the broker
right after that save and finds the session again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.db import connect
from hub.services import mq_kill, mq_save, mq_up
from hub.services.mosquitto_conf import mosquitto_paths
from hub.settings import Settings
from ingest.conformance.gateway import ReferenceGateway
from ingest.conformance.online import Target
from ingest.conformance.outbox import Outbox
from tests.faults.observe import IngestProcess
from tests.proof import Profile, ProofRow
from tests.support import now_minus, provision, wait_until, weight_point

pytestmark = [pytest.mark.services, pytest.mark.slow]


def readings(serial: str, n: int) -> Iterator[tuple[str, str, bytes]]:
    """``n`` daily-ish weights of one scale: (serial, header id, payload)."""
    start, step = now_minus(days=30), timedelta(days=29) / n
    for i in range(n):
        header_id = str(uuid.uuid4())
        point = weight_point(70 + (i % 7) / 10, start + i * step, header_id=header_id)
        yield serial, header_id, orjson.dumps(point)


def stored(conn: psycopg.Connection[Any], serial: str) -> tuple[int, int]:
    """(distinct readings, rows) of one device."""
    row = conn.execute(
        "SELECT count(DISTINCT r.measured_at), count(*) FROM readings r"
        " JOIN devices d ON d.id = r.device_id WHERE d.serial = %s",
        (serial,),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@contextmanager
def reference_gateway(
    settings: Settings, gateway_id: str, password: str, outbox_path: Path
) -> Iterator[ReferenceGateway]:
    target = Target(settings.mqtt_host, settings.mqtt_port, gateway_id, password, timeout=20)
    with Outbox(outbox_path) as outbox:
        gateway = ReferenceGateway(target, outbox)
        gateway.start()
        try:
            yield gateway
        finally:
            gateway.close()


def confirm_eventually(gateway: ReferenceGateway, attempts: int = 6) -> bool:
    """A probe answered (the worker may still be subscribing)."""
    return any(gateway.confirm() for _ in range(attempts))


def test_crash_loses_since_last_save_and_outbox_resends_close_the_gap(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    part = proof_profile.pick(ci=500, full=5_000)
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    plan = list(readings(serial, 2 * part))
    db = mosquitto_paths(settings).data / "mosquitto.db"
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    proof.load = f"{2 * part:,} QoS 1 readings from the reference gateway, ingest away"
    with (
        connect(settings) as conn,
        reference_gateway(settings, gw.gateway_id, gw.password, tmp_path / "outbox") as gateway,
    ):
        conn.autocommit = True
        with worker:  # the worker's session exists, then it goes away
            assert confirm_eventually(gateway)
        for reading in plan[:part]:
            gateway.produce(*reading)
        assert gateway.wait_acknowledged(60)
        saved_at = mq_save(settings)
        for reading in plan[part:]:
            gateway.produce(*reading)
        assert gateway.wait_acknowledged(60)
        assert db.stat().st_mtime == saved_at, "an autosave during the second part"
        mq_kill(settings)
        mq_up(settings)
        with worker:
            # A probe answered after the restart: the worker has had everything
            # the broker still held for it. Nothing is resent yet.
            assert confirm_eventually(gateway)
            before_resend, _ = stored(conn, serial)
            assert gateway.drain(timeout=120), f"{len(gateway.outbox)} readings left"
            after, rows = stored(conn, serial)
    acknowledged = 2 * part
    proof.faults = (
        "broker SIGKILL with ingest away, after a save (SIGUSR1) and "
        f"{part:,} more acknowledged readings; gateway outbox resends"
    )
    proof.published, proof.stored = acknowledged, after
    proof.duplicated, proof.lost = rows - after, acknowledged - after
    proof.notes.append(
        f"the crash lost {acknowledged - before_resend:,} broker-acknowledged readings"
        f" (all since the last save); {gateway.stats.resent:,} resends recovered them"
    )
    # The recovery point: exactly what the broker had saved survived.
    assert before_resend == part, (before_resend, part)
    assert worker.session_present() == [False, True], "the saved session was lost"
    assert (after, rows) == (acknowledged, acknowledged)


def test_reference_gateway_closes_a_mid_stream_crash(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    total = proof_profile.pick(ci=1_200, full=12_000)
    every = 100  # readings between probes
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    plan = list(readings(serial, total))
    kill_at, reboot_at = total // 2, 3 * total // 4
    outbox_path = tmp_path / "outbox"
    proof.load = f"{total:,} QoS 1 readings from the reference gateway, a probe every {every}"
    proof.faults = (
        f"broker SIGKILL after reading {kill_at:,}; gateway restarted from its on-disk"
        f" outbox after reading {reboot_at:,}"
    )
    resent = 0
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    with connect(settings) as conn, worker:
        conn.autocommit = True
        for first, last in ((0, reboot_at), (reboot_at, total)):
            with reference_gateway(settings, gw.gateway_id, gw.password, outbox_path) as gateway:
                if first == 0:
                    assert confirm_eventually(gateway)
                for i in range(first, last):
                    gateway.produce(*plan[i])
                    if i == kill_at:
                        mq_kill(settings)
                        mq_up(settings)
                    if i % every == every - 1:
                        gateway.confirm()
                if last == total:
                    assert gateway.drain(timeout=120), f"{len(gateway.outbox)} readings left"
                resent += gateway.stats.resent
        after, rows = stored(conn, serial)
    proof.published, proof.stored = total, after
    proof.duplicated, proof.lost = rows - after, total - after
    proof.notes.append(f"{resent:,} resends")
    assert resent > 0, "nothing was resent: the crash and reboot did not test the outbox"
    assert worker.session_present() == [False, True], "the hub's session did not survive"
    assert (after, rows) == (total, total)
    with Outbox(outbox_path) as outbox:
        assert len(outbox) == 0


def test_a_new_session_survives_a_crash_right_after_it_subscribed(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    n = proof_profile.pick(ci=200, full=2_000)
    gw = provision(api, kinds=["scale"])
    serial = gw.serials["scale"]
    plan = list(readings(serial, n))
    db = mosquitto_paths(settings).data / "mosquitto.db"
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    proof.load = f"{n:,} QoS 1 readings from the reference gateway, ingest away"
    proof.faults = (
        "broker SIGKILL within a second of a brand-new ingest session's subscriptions"
        " (its first autosave is a minute away)"
    )
    with connect(settings) as conn:
        conn.autocommit = True
        with worker:
            assert worker.wait_connected()
            assert wait_until(lambda: bool(worker.events("mqtt session saved by the broker")))
            saved_at = db.stat().st_mtime
        mq_kill(settings)
        killed_after = time.time() - saved_at
        mq_up(settings)
        # Published while the worker is away: only a session the broker still
        # has queues them.
        with reference_gateway(settings, gw.gateway_id, gw.password, tmp_path / "outbox") as gw1:
            for reading in plan:
                gw1.produce(*reading)
            assert gw1.wait_acknowledged(60)
        with worker:
            assert wait_until(lambda: stored(conn, serial)[1] >= n, timeout=60)
            after, rows = stored(conn, serial)
    proof.published, proof.stored = n, after
    proof.duplicated, proof.lost = rows - after, n - after
    proof.notes.append(f"the broker was killed {killed_after:.1f} s after the worker's save")
    assert worker.session_present() == [False, True], "the new session was lost"
    assert (after, rows) == (n, n)
