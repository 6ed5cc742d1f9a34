"""Issue #18: several ingest workers on one share group, one SIGKILLed, one drained.

Three ``lastmile ingest --slot k`` child processes (detection in their
scorer processes, the scheduled passes every second) share the broker's
subscriptions. Deterioration episodes (weight gain) and control patients
flow as QoS 1 readings from a number of gateways that is no multiple of
three, round-robin: Mosquitto hands a share group's messages to its members
in turn, so every patient's readings are spread over all three workers.
Slot 1 is SIGKILLed at 40% of the load and restarted as the same slot once
the load is sent. Mosquitto keeps handing a dead member's persistent session
its turn (and keeps the messages it had in flight there): those wait in the
session, unstored, until the slot runs again, and the test sees them
arrive only then. Afterwards, counting in the database:

* every reading the broker acknowledged is stored once;
* the monitors' evidence is what one uninterrupted monitor per patient
  finds in the stored readings in arrival order (one worker's replay), with
  one weight-gain alert per episode and none for the controls; every
  checkpoint covers exactly the readings up to its position and holds that
  monitor's state there, byte for byte;
* the scheduled checks ran once per interval between the workers (runs at
  least an interval apart, about one per interval, through the kill), the
  billing forecast once.

The second test drains: of two workers, slot 1 gets SIGTERM during the
load, leaves the group, stores and acknowledges what it had and exits; it is
never started again, and slot 0 alone stores the rest. Then slot 0, the last
member, gets SIGTERM: it keeps its subscriptions, so readings published
while no worker runs wait in its session and are stored when it returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from flows.scheduler import CHECKS, FORECAST
from hub.db import connect
from hub.settings import Settings
from ingest.session import discard_session, ingest_client_id
from tests.faults.alert_checks import check_episodes_as_replayed, checkpoint_states
from tests.faults.load import (
    PacedLoad,
    converge,
    ensure_session,
    make_episode_plan,
    make_plan,
    tally,
)
from tests.faults.observe import IngestProcess
from tests.proof import Profile, ProofRow
from tests.support import count

pytestmark = [pytest.mark.services, pytest.mark.slow]

INTERVAL_S = 1.0
ENV = {"LASTMILE_ADHERENCE_INTERVAL_S": str(INTERVAL_S), "LASTMILE_INGEST_DRAIN_S": "15"}
#: A multiple of the checkpoint interval (50 readings), as in test_alert_pipeline.
PER_PATIENT = 150
SPAN_DAYS = 24.0
EPISODE_DAYS = 8.0


@pytest.fixture
def slots(settings: Settings, tmp_path: Path) -> Iterator[list[IngestProcess]]:
    """Three workers of one share group (not started); their sessions ended afterwards."""
    made = [
        IngestProcess(
            settings.model_copy(update={"ingest_slot": k}), tmp_path / f"ingest-{k}.log", env=ENV
        )
        for k in range(3)
    ]
    yield made
    for worker in made:
        if worker.alive():
            worker.proc.kill()  # type: ignore[union-attr]
            worker.proc.wait()  # type: ignore[union-attr]
        # A leftover session would keep a share of every later test's messages.
        discard_session(settings, ingest_client_id(worker.settings))


@contextmanager
def running(workers: Sequence[IngestProcess]) -> Iterator[None]:
    """Start the workers; SIGTERM those still running on exit, each must exit 0."""
    for worker in workers:
        worker.start()
    for worker in workers:
        assert worker.wait_connected(timeout=60), f"slot {worker.settings.ingest_slot}"
    try:
        yield
    finally:
        codes = [worker.stop() for worker in workers if worker.alive()]
    assert codes == [0] * len(codes), codes


def _stored_by(worker: IngestProcess) -> int:
    """Readings this slot's processes stored (each's last progress or stop event)."""
    total = last = 0
    for event in worker.all_events():
        if event.get("event") == "ingest slot claimed":  # a process starts
            total, last = total + last, 0
        elif event.get("event") in {"ingest progress", "ingest worker stopped"}:
            last = int(event["stored"])
    return total + last


def _runs(conn: psycopg.Connection[Any], name: str, since: datetime) -> list[tuple[datetime, str]]:
    rows = conn.execute(
        "SELECT ran_at, ran_by FROM scheduled_runs WHERE pass = %s AND ran_at >= %s"
        " ORDER BY ran_at",
        (name, since),
    ).fetchall()
    return [(at, str(by)) for at, by in rows]


def test_three_workers_one_killed_store_once_and_detect_as_one_worker(
    settings: Settings,
    api: TestClient,
    slots: list[IngestProcess],
    proof: ProofRow,
    proof_profile: Profile,
) -> None:
    # 5 or 17 gateways: no multiple of 3, so each patient's readings go to every worker.
    episodes = proof_profile.pick(ci=3, full=12)
    controls = proof_profile.pick(ci=2, full=5)
    rate = proof_profile.pick(ci=60, full=150)
    plan = make_episode_plan(
        api,
        episodes=episodes,
        controls=controls,
        per_patient=PER_PATIENT,
        span_days=SPAN_DAYS,
        episode_days=EPISODE_DAYS,
    )
    duration = plan.total / rate
    proof.load = (
        f"{episodes} weight-gain episodes + {controls} control patients, {plan.total:,} QoS 1"
        f" readings at {rate}/s ({duration:.0f} s) over 3 ingest workers sharing the subscriptions"
    )
    proof.faults = "worker slot 1 SIGKILL at 40% of the load, restarted after the load was sent"
    victim = slots[1]
    began = datetime.now(UTC)
    with connect(settings) as conn, running(slots):
        conn.autocommit = True
        ensure_session(settings, plan, conn)
        load = PacedLoad(settings, plan, rate).start()
        assert load.wait_sent(0.4, timeout=duration + 60)
        victim.kill()
        load.join(timeout=duration + 180)
        # The dead slot's turns wait in its session: not stored while it is away.
        converge(conn, plan, load.acked_count, timeout=60, settle=3.0)
        waiting = load.acked_count - tally(conn, plan, load.acked).stored
        assert waiting > 0, "the broker handed the dead slot's session nothing?"
        victim.start()
        assert victim.wait_connected(timeout=60)
        assert victim.session_present()[-1], "the restarted slot resumed its session"
        converge(conn, plan, load.acked_count, timeout=120)
        result = tally(conn, plan, load.acked)
        proof.published, proof.stored = result.published, result.stored
        proof.duplicated, proof.lost = result.duplicated, result.lost
        assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
        assert result.published == plan.total
        assert count(conn, "SELECT count(*) FROM dead_letters") == 0

        # Detection as one worker's: the evidence and checkpoints equal a replay.
        oracle = check_episodes_as_replayed(conn, plan.patients, plan.episode_patients)
        assert checkpoint_states(conn) == oracle.states
        assert set(oracle.states) == set(plan.patients), "every patient has a checkpoint"

        # The scheduled checks: once per interval between the workers, the kill included.
        ended = datetime.now(UTC)
        runs = _runs(conn, CHECKS, began)
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(runs)]
        elapsed = (ended - began).total_seconds()
        assert min(gaps) >= timedelta(seconds=INTERVAL_S), gaps
        assert max(gaps) < timedelta(seconds=5 * INTERVAL_S), gaps  # (a busy machine)
        assert 0.5 * elapsed / INTERVAL_S <= len(runs) <= elapsed / INTERVAL_S + 1, len(runs)
        assert {by for _, by in runs} <= {ingest_client_id(w.settings) for w in slots}
        assert len(_runs(conn, FORECAST, began)) == 1

    shares = [_stored_by(worker) for worker in slots]
    assert all(shares), f"each worker stored a share: {shares}"
    proof.notes.append(
        f"readings stored per worker as their logs count them {shares} (slot 1: its"
        " restarted process; the killed one logged no count);"
        f" {waiting} waited in the dead slot's session until it restarted;"
        f" {len(runs)} scheduled check runs in {elapsed:.0f} s by"
        f" {len({by for _, by in runs})} workers"
    )


def test_a_drained_worker_strands_nothing_and_the_last_keeps_the_groups_messages(
    settings: Settings,
    api: TestClient,
    slots: list[IngestProcess],
    proof: ProofRow,
    proof_profile: Profile,
) -> None:
    rate = proof_profile.pick(ci=80, full=200)
    plan = make_plan(api, gateways=4, total=proof_profile.pick(ci=800, full=4_000))
    later = make_plan(api, gateways=2, total=proof_profile.pick(ci=200, full=1_000))
    proof.load = (
        f"{plan.total:,} QoS 1 readings at {rate}/s over 2 workers, then {later.total:,}"
        " published while no worker runs"
    )
    proof.faults = "SIGTERM to slot 1 at 30% of the load (never restarted), then to slot 0"
    first, second = slots[0], slots[1]
    with connect(settings) as conn:
        conn.autocommit = True
        with running([first, second]):
            ensure_session(settings, plan, conn)
            load = PacedLoad(settings, plan, rate).start()
            assert load.wait_sent(0.3, timeout=120)
            assert second.stop() == 0
            load.join(timeout=plan.total / rate + 120)
            converge(conn, plan, load.acked_count, timeout=120)
            result = tally(conn, plan, load.acked)
            assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
            assert result.published == plan.total
            assert first.alive()
        # Slot 0, the last member, kept its subscriptions when it stopped.
        assert len(second.events("leaving the share group")) == 1
        drained = second.events("drained")
        assert [e["left_unacked"] for e in drained] == [0]
        assert first.events("leaving the share group") == []
        assert len(first.events("last member of the share group: keeping its subscriptions")) == 1

        away = PacedLoad(settings, later, rate).start()
        away.join(timeout=later.total / rate + 120)
        assert tally(conn, later, away.acked).stored == 0
        with running([first]):
            converge(conn, later, away.acked_count, timeout=120)
        back = tally(conn, later, away.acked)
        assert (back.lost, back.duplicated, back.unexpected) == (0, 0, 0), back
        assert back.published == later.total
    proof.published = result.published + back.published
    proof.stored = result.stored + back.stored
    proof.duplicated = result.duplicated + back.duplicated
    proof.lost = result.lost + back.lost
    proof.notes.append(
        f"slot 1 drained in {drained[0]['seconds']} s and exited 0; slot 0 stored the rest"
        f" alone and, restarted, the {later.total:,} readings its session kept while no"
        " worker ran"
    )
