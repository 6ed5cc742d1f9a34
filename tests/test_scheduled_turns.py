"""The scheduled passes of several workers: once per interval between them, whoever lives.

Real schedulers (:class:`~flows.scheduler.AdherenceScheduler` with
:class:`~flows.scheduler.Turns`) on the test's database, as three workers
of a share group would run them, counted in ``scheduled_runs``: the checks
ran about once per interval, never two runs less than an interval apart,
by more than one worker; the billing forecast ran once. A process that
holds the turn blocks the others; SIGKILLed, it loses the turn with its
connection and another worker runs the pass at its next tick.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from flows.scheduler import CHECKS, FORECAST, AdherenceScheduler, Turns
from hub.settings import Settings
from tests.support import count, wait_until

pytestmark = pytest.mark.services

INTERVAL_S = 0.5


@contextmanager
def schedulers(settings: Settings, names: list[str]) -> Iterator[None]:
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=AdherenceScheduler(
                settings, interval_s=INTERVAL_S, turns=Turns(ran_by=name)
            ).run,
            args=(stop,),
            daemon=True,
        )
        for name in names
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a scheduler did not stop"


def _runs(conn: psycopg.Connection[Any], name: str) -> list[tuple[Any, str]]:
    return [
        (at, str(by))
        for at, by in conn.execute(
            "SELECT ran_at, ran_by FROM scheduled_runs WHERE pass = %s ORDER BY ran_at", (name,)
        ).fetchall()
    ]


def test_three_workers_run_the_checks_once_per_interval(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    began = time.monotonic()
    with schedulers(settings, ["w0", "w1", "w2"]):
        time.sleep(12 * INTERVAL_S)
    elapsed = time.monotonic() - began
    runs = _runs(conn, CHECKS)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(runs)]
    assert min(gaps) >= timedelta(seconds=INTERVAL_S), gaps
    # One per interval (and at the first tick), not one per worker and interval.
    assert 0.5 * elapsed / INTERVAL_S <= len(runs) <= elapsed / INTERVAL_S + 1, len(runs)
    assert len({by for _, by in runs}) > 1, "the turn passes between the workers"
    assert len(_runs(conn, FORECAST)) == 1


HOLDER = """
import sys, time
from flows.scheduler import Turns
from hub.db import connect
from hub.settings import load_settings

conn = connect(load_settings())
conn.autocommit = True
assert Turns(ran_by="holder").take(conn)
print("holding", flush=True)
time.sleep(600)
"""


def test_a_worker_that_dies_holding_the_turn_hands_it_on(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=settings.subprocess_env(), stdout=subprocess.PIPE
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == b"holding\n"
            with schedulers(settings, ["w0", "w1"]):
                # While it holds the turn (in the middle of a pass), nobody else runs one.
                time.sleep(6 * INTERVAL_S)
                assert _runs(conn, CHECKS) == []
                holder.send_signal(signal.SIGKILL)
                holder.wait(timeout=10)
                killed_at = time.monotonic()
                assert wait_until(lambda: len(_runs(conn, CHECKS)) > 0, timeout=10)
                taken_over_s = time.monotonic() - killed_at
                assert {by for _, by in _runs(conn, CHECKS)} <= {"w0", "w1"}
        finally:
            if holder.poll() is None:
                holder.kill()
    assert taken_over_s < 2.0, taken_over_s
    assert count(conn, "SELECT count(*) FROM scheduled_runs WHERE ran_by = 'holder'") == 0
