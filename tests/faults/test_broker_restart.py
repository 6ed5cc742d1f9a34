"""Issue #7, fault 3 (graceful part): the broker restarted cleanly under load.

A graceful stop (SIGTERM) makes Mosquitto write its persistence database
(sessions, queued and in-flight messages) before it exits; the restarted
broker reads it back. Two cases, counted in the database:

* the ingest worker **present**: gateways keep publishing through the restart
  (paho resends what the broker had not acknowledged), the worker reconnects
  to the session it had;
* the ingest worker **away**: what the broker queued for the worker's session
  before the restart is delivered after it.

Each time: every reading the broker acknowledged is stored exactly once, the
worker's session was present on reconnect, and the broker dropped nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.db import connect
from hub.services import mq_down, mq_status, mq_up
from hub.settings import Settings
from tests.faults.load import (
    PacedLoad,
    Plan,
    Tally,
    converge,
    ensure_session,
    make_plan,
    tally,
)
from tests.faults.observe import DROPPED, IngestProcess, SysWatch
from tests.proof import Profile, ProofRow

pytestmark = [pytest.mark.services, pytest.mark.slow]


def restart_gracefully(settings: Settings) -> float:
    """SIGTERM the broker (it saves), start it again; seconds it was away."""
    began = time.monotonic()
    before = mq_status(settings).pid
    mq_down(settings)
    after = mq_up(settings).pid
    assert before is not None
    assert after not in (None, before), "the broker was not restarted"
    return time.monotonic() - began


def dropped_moved(sys_watch: SysWatch, began: float, restarted: float) -> bool:
    """Whether the dropped counter moved before the restart, or is non-zero after it.

    A restarted broker counts from 0 again.
    """
    before = [v for t, v in sys_watch.values.get(DROPPED, []) if began < t < restarted]
    after = [v for t, v in sys_watch.values.get(DROPPED, []) if t >= restarted]
    base = [v for t, v in sys_watch.values.get(DROPPED, []) if t <= began]
    start = base[-1] if base else 0
    return any(v != start for v in before) or any(v != 0 for v in after)


def check(
    proof: ProofRow,
    plan: Plan,
    load: PacedLoad,
    result: Tally,
    worker: IngestProcess,
    *,
    dropped: bool,
) -> None:
    """Fill the proof row; every acknowledged reading stored once, the session kept."""
    proof.published, proof.stored = result.published, result.stored
    proof.duplicated, proof.lost = result.duplicated, result.lost
    assert result.published == plan.total == load.sent
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
    assert worker.session_present() == [False, True], "the worker's session was not kept"
    assert not dropped, "the broker dropped messages"


def test_graceful_restart_with_worker_present(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    total = proof_profile.pick(ci=3_000, full=30_000)
    gateways = proof_profile.pick(ci=5, full=20)
    rate = proof_profile.pick(ci=300, full=500)
    plan = make_plan(api, gateways=gateways, total=total)
    proof.load = f"{plan.total:,} QoS 1 readings from {gateways} gateways at {rate}/s"
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    with SysWatch(settings) as sys_watch, worker, connect(settings) as conn:
        conn.autocommit = True
        ensure_session(settings, plan, conn)
        began = time.monotonic()
        load = PacedLoad(settings, plan, rate).start()
        assert load.wait_sent(0.4, timeout=plan.total / rate + 60)
        restarted = time.monotonic()
        away_s = restart_gracefully(settings)
        load.join(timeout=plan.total / rate + 180)
        converge(conn, plan, load.acked_count, timeout=120)
        result = tally(conn, plan, load.acked)
        sys_watch.wait_tick(timeout=30)
        moved = dropped_moved(sys_watch, began, restarted)
    proof.faults = f"broker SIGTERM + restart at 40% of the load ({away_s:.1f} s away)"
    check(proof, plan, load, result, worker, dropped=moved)


def test_graceful_restart_with_worker_away(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    total = proof_profile.pick(ci=3_000, full=30_000)
    gateways = proof_profile.pick(ci=5, full=20)
    plan = make_plan(api, gateways=gateways, total=total)
    proof.load = f"{plan.total:,} QoS 1 readings from {gateways} gateways, ingest away"
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    with SysWatch(settings) as sys_watch, connect(settings) as conn:
        conn.autocommit = True
        with worker:
            ensure_session(settings, plan, conn)
        began = time.monotonic()
        load = PacedLoad(settings, plan, rate=5_000).start()
        load.join(timeout=120)
        restarted = time.monotonic()
        away_s = restart_gracefully(settings)
        with worker:
            converge(conn, plan, load.acked_count, timeout=120)
            result = tally(conn, plan, load.acked)
        sys_watch.wait_tick(timeout=30)
        moved = dropped_moved(sys_watch, began, restarted)
    proof.faults = (
        f"broker SIGTERM + restart ({away_s:.1f} s) with {load.acked_count:,} readings"
        " queued for the absent ingest session"
    )
    check(proof, plan, load, result, worker, dropped=moved)
