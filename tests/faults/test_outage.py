"""Issue #7, fault 2: the ingest worker away for a long time at the planned peak rate.

The broker is sized (hub/services/mosquitto_conf.py) for the hub's ingest
session to be away for ``OUTAGE_S`` (15 minutes) at ``READINGS_PER_S``
(1,000 readings/s). The full profile does exactly that; the ci profile keeps
the rate and shortens the outage to 60 s (60,000 readings). The worker is
stopped (SIGTERM), the gateways publish for the whole outage, the worker is
started again: the broker must say its session was kept (``session_present``,
logged by the worker), every reading the broker acknowledged must be stored
exactly once, and the broker must have dropped nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.db import connect
from hub.services.mosquitto_conf import OUTAGE_S, READINGS_PER_S
from hub.settings import Settings
from tests.faults.load import converge, make_plan, publish_while_away, tally
from tests.faults.observe import STORED, IngestProcess, SysWatch
from tests.proof import Profile, ProofRow

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_outage_ingest_away_at_peak_rate(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    outage_s = proof_profile.pick(ci=60, full=OUTAGE_S)
    gateways = proof_profile.pick(ci=20, full=50)
    plan = make_plan(api, gateways=gateways, total=outage_s * READINGS_PER_S)
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    with SysWatch(settings) as sys_watch, connect(settings) as conn:
        conn.autocommit = True
        load, stopped_at = publish_while_away(
            worker, plan, conn, rate=READINGS_PER_S, timeout=outage_s * 2 + 120
        )
        published_s = load.ack_times[-1][0] - load.started_at
        # A $SYS tick after the last publish: the counters now cover the outage.
        sys_watch.wait_tick()
        held = sys_watch.latest(STORED)
        dropped = sys_watch.dropped_since(stopped_at)
        away_s = time.monotonic() - stopped_at
        with worker:
            catch_up_s = converge(conn, plan, load.acked_count, timeout=outage_s * 3 + 120)
            result = tally(conn, plan, load.acked)
    proof.load = (
        f"{plan.total:,} QoS 1 readings from {gateways} gateways at {READINGS_PER_S:,}/s planned,"
        f" {plan.total / published_s:,.0f}/s measured ({published_s:.0f} s)"
    )
    proof.faults = f"ingest stopped (SIGTERM) for {away_s:.0f} s, then restarted"
    proof.published, proof.stored = result.published, result.stored
    proof.duplicated, proof.lost = result.duplicated, result.lost
    proof.notes.append(
        f"broker held {held:,} messages at the end; caught up in {catch_up_s:.0f} s"
        f" ({result.stored / catch_up_s:,.0f}/s)"
    )
    assert result.published == plan.total == load.sent
    # The outage lasted at least as long as planned, at (nearly) the planned rate.
    assert away_s >= outage_s
    assert plan.total / published_s >= 0.9 * READINGS_PER_S, published_s
    assert held >= plan.total, "the broker did not hold the readings for the session"
    assert dropped == 0, "the broker dropped messages"
    assert worker.session_present() == [False, True], "the session was not kept"
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
