"""Issue #7, fault 1: the set test, and its control run that must show loss.

A steady QoS 1 load from many gateways while the ingest worker is SIGKILLed
three times at seeded random moments and PostgreSQL is stopped with
``immediate`` once. Afterwards, in the database: the set of readings stored
equals the set the broker acknowledged (nothing lost, nothing twice, nothing
else), each injected deterioration gave exactly one alert, and the broker's
``$SYS/broker/publish/messages/dropped`` did not move.

The control run starts a broker of its own with Mosquitto's default
``max_queued_messages`` (1,000) and sends the same load while the worker's
session is away: it must show loss both in the dropped counter and in the
database, or the set test could not see loss either.
"""

from __future__ import annotations

import itertools
import random
import shutil
import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from devices.credentials import provision_gateway_credentials
from hub.db import connect
from hub.services import mq_down, mq_up, pg_stop_immediate, pg_up
from hub.services.hub_user import ensure_hub_client
from hub.settings import Settings
from tests.faults.alert_checks import check_alerts
from tests.faults.load import (
    PacedLoad,
    converge,
    ensure_session,
    make_plan,
    publish_while_away,
    tally,
)
from tests.faults.observe import IngestProcess, SysWatch
from tests.proof import Profile, ProofRow
from tests.support import count

pytestmark = [pytest.mark.services, pytest.mark.slow]

#: Mosquitto's own default; the hub's broker is sized at 2,000,000.
DEFAULT_MAX_QUEUED = 1_000
SEED = 20260907


def _schedule(rng: random.Random, duration: float, pg_down_s: float) -> list[tuple[float, str]]:
    """Three kills and one database stop at random moments, none within another's outage."""
    faults = ["kill", "kill", "kill", "pg"]
    for _ in range(10_000):
        moments = sorted(rng.uniform(0.1, 0.85) * duration for _ in range(4))
        rng.shuffle(faults)
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        needed = [pg_down_s + 2 if what == "pg" else 2 for what in faults[:-1]]
        if all(gap > need for gap, need in zip(gaps, needed, strict=True)):
            return list(zip(moments, faults, strict=True))
    raise AssertionError(f"no fault schedule fits in {duration:.0f} s")


def test_set_sigkills_and_pg_immediate(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    total = proof_profile.pick(ci=10_000, full=100_000)
    gateways = proof_profile.pick(ci=10, full=50)
    rate = proof_profile.pick(ci=300, full=500)
    pg_down_s = proof_profile.pick(ci=5, full=20)
    episodes = frozenset(range(proof_profile.pick(ci=3, full=10)))
    plan = make_plan(api, gateways=gateways, total=total, episodes=episodes)
    duration = plan.total / rate
    schedule = _schedule(random.Random(SEED), duration, pg_down_s)
    proof.load = (
        f"{plan.total:,} QoS 1 readings from {gateways} gateways at {rate}/s"
        f" ({duration:.0f} s), {len(episodes)} weight-gain episodes"
    )
    proof.faults = (
        f"ingest SIGKILL x3 + PostgreSQL stop -m immediate for {pg_down_s} s, at "
        + ", ".join(f"{what}@{at:.0f}s" for at, what in schedule)
        + f" (seed {SEED})"
    )
    worker = IngestProcess(settings, tmp_path / "ingest.log")
    with SysWatch(settings) as sys_watch, worker:
        with connect(settings) as conn:
            conn.autocommit = True
            ensure_session(settings, plan, conn)
        began = time.monotonic()
        load = PacedLoad(settings, plan, rate).start()
        for at, what in schedule:
            assert load.wait_sent(at / duration, timeout=duration + 60)
            if what == "kill":
                worker.kill()
                worker.start()
                # The next fault hits a running worker, not one still starting.
                assert worker.wait_connected(timeout=60)
            else:
                pg_stop_immediate(settings)
                time.sleep(pg_down_s)
                pg_up(settings)
        load.join(timeout=duration + 180)
        assert worker.kills == 3
        # Each restart found the session the SIGKILLed worker left (the broker kept queueing).
        assert worker.session_present() == [False, True, True, True]
        with connect(settings) as conn:
            conn.autocommit = True
            converge(conn, plan, load.acked_count, timeout=240)
            result = tally(conn, plan, load.acked)
            patients = {plan.gateways[g].patient_id for g in episodes}
            proof.published, proof.stored = result.published, result.stored
            proof.duplicated, proof.lost = result.duplicated, result.lost
            assert result.published == plan.total == load.sent
            assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
            assert count(conn, "SELECT count(*) FROM dead_letters") == 0
            check_alerts(conn, patients)
        sys_watch.wait_tick()
        assert sys_watch.dropped_since(began) == 0, "the broker dropped messages"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_set_control_default_queue_limit_shows_loss(
    settings: Settings, api: TestClient, tmp_path: Path, proof: ProofRow, proof_profile: Profile
) -> None:
    total = proof_profile.pick(ci=10_000, full=100_000)
    gateways = proof_profile.pick(ci=10, full=50)
    plan = make_plan(api, gateways=gateways, total=total)
    proof.load = f"{plan.total:,} QoS 1 readings from {gateways} gateways, as fast as acked"
    proof.faults = (
        f"CONTROL: own broker with max_queued_messages {DEFAULT_MAX_QUEUED:,} (default),"
        " ingest away while publishing"
    )
    # The broker keeps its files apart; the hub's clients keep the data folder
    # (their secrets live there) and only change port.
    control = settings.model_copy(update={"mqtt_port": _free_port()})
    broker = control.model_copy(update={"data_dir": settings.data_dir / "control-broker"})
    mq_up(broker, max_queued_messages=DEFAULT_MAX_QUEUED)
    try:
        ensure_hub_client(control)
        for gw in plan.gateways:
            provision_gateway_credentials(control, gateway_id=gw.gateway_id, password=gw.password)
        worker = IngestProcess(control, tmp_path / "ingest.log")
        with SysWatch(control) as sys_watch, connect(control) as conn:
            conn.autocommit = True
            load, began = publish_while_away(worker, plan, conn, rate=100_000, timeout=300)
            with worker:
                converge(conn, plan, load.acked_count, timeout=60, settle=3)
                result = tally(conn, plan, load.acked)
            sys_watch.wait_tick()
            dropped = sys_watch.dropped_since(began)
        proof.published, proof.stored = result.published, result.stored
        proof.duplicated, proof.lost = result.duplicated, result.lost
        proof.notes.append(f"broker dropped {dropped:,}")
        assert result.published == plan.total
        assert dropped > 0, "the control broker dropped nothing: the test cannot see loss"
        assert result.lost > 0, "nothing lost with a 1,000-message queue: the test cannot see loss"
        assert result.lost == dropped, (result, dropped)
    finally:
        mq_down(broker)
        shutil.rmtree(broker.data_dir, ignore_errors=True)
