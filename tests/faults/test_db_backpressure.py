"""Issue #7, fault 4: PostgreSQL down under load, the worker as its own process.

tests/test_database_outage.py checks, in-process and briefly, that the
worker's unacked backlog stays within the broker's in-flight window. This
test runs the real ``lastmile ingest`` process through a long outage
(ci: 30 s, full: the issue's two minutes) with gateways publishing all along:

* it acks nothing while the database is away: every reading the broker
  acknowledged during the outage is still in the broker's message store
  (``$SYS/broker/store/messages/count``), which it would leave once acked;
* its resident memory (VmRSS, sampled twice a second) stays under
  ``RSS_CAP_KB``;
* it does not crash-loop: the same process, never exited, one MQTT connection;
* it catches up afterwards: every acknowledged reading stored exactly once,
  and the broker dropped nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.db import connect
from hub.services import pg_stop_immediate, pg_up
from hub.settings import Settings
from tests.faults.load import PacedLoad, converge, ensure_session, make_plan, tally
from tests.faults.observe import STORED, IngestProcess, SysWatch
from tests.proof import Profile, ProofRow

pytestmark = [pytest.mark.services, pytest.mark.slow]

RATE = 500
#: Load before and after the outage, seconds.
AROUND_S = 5
#: The worker's VmRSS measured on the 2-core development box (ci profile, ~400-byte
#: readings): 109.5 MB before the outage, 112.2 MB at its peak, the backlog it holds
#: being the broker's in-flight window (5,000 messages). The cap leaves ~45 % over
#: that peak; messages near max_inflight_bytes (64 MiB in flight) would need more.
RSS_CAP_KB = 160_000


def test_db_backpressure_pg_down_under_load(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    down_s = proof_profile.pick(ci=30, full=120)
    gateways = proof_profile.pick(ci=10, full=50)
    plan = make_plan(api, gateways=gateways, total=RATE * (down_s + 2 * AROUND_S))
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    rss: list[int] = []
    with SysWatch(settings) as sys_watch, worker:
        with connect(settings) as conn:
            conn.autocommit = True
            ensure_session(settings, plan, conn)
        pid = worker.pid
        load = PacedLoad(settings, plan, rate=RATE).start()
        assert load.wait_sent(AROUND_S / (down_s + 2 * AROUND_S), timeout=60)
        rss_before = worker.rss_kb()
        pg_stop_immediate(settings)
        down_at = time.monotonic()
        while time.monotonic() - down_at < down_s:
            assert worker.alive(), "the worker exited while the database was away"
            rss.append(worker.rss_kb())
            time.sleep(0.5)
        up_at = time.monotonic()
        held = sys_watch.samples(STORED, down_at + 1, up_at)
        pg_up(settings)
        back_at = time.monotonic()
        load.join(timeout=down_s + 4 * AROUND_S + 60)
        with connect(settings) as conn:
            conn.autocommit = True
            converge(conn, plan, load.acked_count, timeout=down_s * 4 + 60)
            catch_up_s = time.monotonic() - back_at
            result = tally(conn, plan, load.acked)
        sys_watch.wait_tick()
        dropped = sys_watch.dropped_since(down_at)
        same_process = worker.alive() and worker.pid == pid
    connections = worker.session_present()
    proof.load = f"{plan.total:,} QoS 1 readings from {gateways} gateways at {RATE}/s"
    proof.faults = f"PostgreSQL stop -m immediate for {down_s} s under load"
    proof.published, proof.stored = result.published, result.stored
    proof.duplicated, proof.lost = result.duplicated, result.lost
    during = [(t, v, load.acked_by(t - 1) - load.acked_by(down_at)) for t, v in held]
    proof.notes.append(
        f"VmRSS {rss_before:,} kB before, peak {max(rss):,} kB (cap {RSS_CAP_KB:,});"
        f" broker store during the outage (count, acked since it began): "
        + ", ".join(f"{v:,}/{a:,}" for _, v, a in during)
        + f"; all stored {catch_up_s:.0f} s after PostgreSQL was back"
        f" (the load went on for {AROUND_S} s)"
    )
    assert same_process, "the worker did not survive the outage as the same process"
    assert len(connections) == 1, f"the worker reconnected to the broker: {connections}"
    failures = [e for e in worker.all_events() if e["level"] in ("error", "critical") or "exc" in e]
    assert failures == [], failures
    assert max(rss) <= RSS_CAP_KB, (rss_before, max(rss))
    assert during, "no $SYS store count seen during the outage"
    # Acked readings would leave the store: all published since the outage began are there.
    assert all(v >= acked for _, v, acked in during), during
    assert during[-1][2] > 0
    assert result.published == plan.total == load.sent
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
    assert dropped == 0, "the broker dropped messages"
