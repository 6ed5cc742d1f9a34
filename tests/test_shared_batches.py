"""Two workers of several storing one patient's readings: detection as if one worker had.

In process, on the real database: two :class:`~flows.batches.BatchStore`
objects, each with its own connection and scorer, as two ingest workers of
a share group (``shared``) would have. One patient's weight series, with a
deterioration at its end, is cut into small batches that alternate between
them, and each pair is stored in the opposite order to the one it arrived
in: the second worker stores a batch received after the one the first
worker is still holding. Then, counting in the database:

* every reading is stored once, each batch after the readings committed
  before it in arrival order (its late arrival times moved to just after
  them), so the stored arrival order is the order they were scored in, and
  the patient's stream is recorded to end at the newest of them;
* the monitors' evidence is what one uninterrupted monitor finds in the
  stored readings in arrival order (``tests.faults.alert_checks.replay``),
  with the weight-gain alert among it, and each checkpoint covers exactly
  the readings up to its position and holds that monitor's state then,
  byte for byte.

The same interleaving stored by two workers that are not sharing (no
per-patient lock, no catch-up, no reordering) finds other evidence: the
check can fail. A third test stores the batches from two threads at once,
so that the per-patient lock, not the test, orders them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest

from devices.service import create_device, create_gateway, new_gateway_id
from flows.batches import BatchStore
from hub import patients
from hub.db import connect
from hub.domain import DeviceKind
from hub.settings import Settings
from hub.topics import readings_topic
from ingest.models import Received
from ingest.validation import Validator
from streaming.scorer import LocalScorer, ProcessScorer, Scorer
from streaming.service import MonitorCache, default_monitor_cache
from tests.faults.alert_checks import checkpoint_lag, checkpoint_states, replay, stored_evidence
from tests.support import count, weight_point

pytestmark = pytest.mark.services

READINGS = 120
PER_BATCH = 3
SPAN = timedelta(days=24)
EPISODE = timedelta(days=8)
#: Small, so that both workers write checkpoints and find the other's ahead of them.
CHECKPOINT_EVERY = 7


def _local(settings: Settings) -> Scorer:
    factory = default_monitor_cache().factory
    cache = MonitorCache(
        factory=factory,
        code_version=default_monitor_cache().code_version,
        checkpoint_every=CHECKPOINT_EVERY,
        catch_up=settings.ingest_slot is not None,
    )
    return LocalScorer(cache)


SCORERS: dict[str, Callable[[Settings], Scorer]] = {"process": ProcessScorer, "local": _local}


@dataclass
class Series:
    patient_id: str
    gateway_id: str
    serial: str
    #: Batches in the order they arrived (each a list of messages).
    batches: list[list[Received]]


@pytest.fixture
def series(settings: Settings) -> Series:
    """One CHF patient's scale, READINGS weights over SPAN, gaining weight over EPISODE."""
    with connect(settings) as conn:
        patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
        gateway = new_gateway_id()
        create_gateway(conn, gateway_id=gateway, label=None)
        serial = "SC-shared-1"
        create_device(
            conn, serial=serial, kind=DeviceKind.SCALE, gateway_id=gateway, patient_id=patient.id
        )
        conn.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - SPAN - timedelta(days=1)
    step = SPAN / READINGS
    topic = readings_topic(gateway, serial)
    messages = []
    for n in range(READINGS):
        at = start + n * step
        kg = 80.0 + (0.1 if n % 2 else -0.1)
        if at > start + SPAN - EPISODE:
            kg += 0.6 * (at - (start + SPAN - EPISODE)) / timedelta(days=1)
        payload = orjson.dumps(weight_point(round(kg, 2), at))
        # Arrival: a few milliseconds apart, in measurement order.
        received = now + timedelta(milliseconds=5 * n)
        messages.append(Received(topic, payload, n + 1, False, received, 1))
    batches = [messages[i : i + PER_BATCH] for i in range(0, READINGS, PER_BATCH)]
    return Series(str(patient.id), gateway, serial, batches)


@pytest.fixture(params=sorted(SCORERS))
def make_scorer(request: pytest.FixtureRequest) -> Callable[[Settings], Scorer]:
    return SCORERS[str(request.param)]


@pytest.fixture
def workers(
    settings: Settings, make_scorer: Callable[[Settings], Scorer]
) -> Iterator[Callable[[bool], tuple[BatchStore, BatchStore]]]:
    made: list[BatchStore] = []

    def two(shared: bool) -> tuple[BatchStore, BatchStore]:
        for slot in (0, 1):
            mine = settings.model_copy(update={"ingest_slot": slot if shared else None})
            made.append(
                BatchStore(
                    mine,
                    validator=Validator.from_settings(mine),
                    scorer=make_scorer(mine),
                    shared=shared,
                )
            )
        return made[-2], made[-1]

    yield two
    for store in made:
        store.close()


def _store(store: BatchStore, batch: list[Received]) -> None:
    result = store.store_with_retry(batch, threading.Event())
    assert result is not None
    assert (result.stored, result.rejected) == (len(batch), 0), result


def _swapped_pairs(series: Series) -> list[tuple[int, list[Received]]]:
    """(worker, batch) in the order stored: batch 2j+1 (worker 1) before batch 2j (worker 0)."""
    order = []
    for j in range(0, len(series.batches), 2):
        pair = series.batches[j : j + 2]
        if len(pair) == 2:
            order.append((1, pair[1]))
        order.append((0, pair[0]))
    return order


def _check_as_one_worker(conn: psycopg.Connection[Any], series: Series) -> None:
    assert count(conn, "SELECT count(*) FROM readings") == READINGS
    oracle = replay(conn, [series.patient_id])
    stored = stored_evidence(conn)
    assert stored == oracle.evidence, (stored - oracle.evidence, oracle.evidence - stored)
    assert any(e[1] == "weight_gain" for e in stored), "the episode alerts"
    assert checkpoint_lag(conn) == []
    assert checkpoint_states(conn) == oracle.states
    # Where the workers recorded the patient's stream to end is its newest reading.
    newest = conn.execute(
        "SELECT patient_id, received_at, measured_at, device_id, measure FROM readings"
        " ORDER BY received_at DESC, measured_at DESC, device_id DESC, measure DESC LIMIT 1"
    ).fetchall()
    assert conn.execute("SELECT * FROM patient_streams").fetchall() == newest


def test_interleaved_batches_are_scored_as_one_worker_would(
    settings: Settings,
    series: Series,
    workers: Callable[[bool], tuple[BatchStore, BatchStore]],
) -> None:
    stores = workers(True)
    stored_order: list[int] = []
    for worker, batch in _swapped_pairs(series):
        _store(stores[worker], batch)
        stored_order.extend(m.mid for m in batch)
    with connect(settings) as conn:
        conn.autocommit = True
        # Arrival order as stored is the order the batches were stored in.
        # (Each reading's place in measurement order is its message id.)
        rows = conn.execute(
            "SELECT rank() OVER (ORDER BY measured_at) FROM readings"
            " ORDER BY received_at, measured_at"
        ).fetchall()
        assert [int(str(n)) for (n,) in rows] == stored_order
        _check_as_one_worker(conn, series)


def test_without_sharing_the_same_interleaving_is_not_one_workers_detection(
    settings: Settings,
    series: Series,
    workers: Callable[[bool], tuple[BatchStore, BatchStore]],
) -> None:
    stores = workers(False)
    for worker, batch in _swapped_pairs(series):
        _store(stores[worker], batch)
    with connect(settings) as conn:
        conn.autocommit = True
        oracle = replay(conn, [series.patient_id])
        stored = stored_evidence(conn)
        assert (stored, checkpoint_states(conn)) != (oracle.evidence, oracle.states)


def test_concurrent_workers_are_ordered_by_the_patient_lock(
    settings: Settings,
    series: Series,
    workers: Callable[[bool], tuple[BatchStore, BatchStore]],
) -> None:
    stores = workers(True)
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            for batch in series.batches[worker::2]:
                _store(stores[worker], batch)
        except (AssertionError, psycopg.Error) as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with connect(settings) as conn:
        conn.autocommit = True
        _check_as_one_worker(conn, series)
