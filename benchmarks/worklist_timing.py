"""The timed part of the worklist benchmark (benchmarks/worklist.py).

It runs in a freshly spawned interpreter that imports what ``lastmile api`` imports
and little else, so that the garbage collector sees a heap like the server's: the
tail of a request that allocates thousands of objects depends on it.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

from fastapi.testclient import TestClient

from api import accounts
from api.app import create_app
from benchmarks import worklist_data as data
from flows.worklist import build_worklist
from hub.db import connect
from hub.settings import Settings

WORKLIST_TARGET_MS, CHART_TARGET_MS = 100.0, 50.0
CHART_DAYS = 90
WARMUP = 10


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _timed(repeats: int, call: Callable[[int], None]) -> list[float]:
    for n in range(WARMUP):
        call(n)
    out = []
    for n in range(repeats):
        began = time.perf_counter()
        call(n)
        out.append((time.perf_counter() - began) * 1000)
    return out


def _line(label: str, samples: list[float], target: float | None) -> None:
    p50, p95, p99 = _percentiles(samples)
    ratio = f"  p95/target {p95 / target:.2f} (target {target:.0f} ms)" if target else ""
    figures = f"p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f} ms  n={len(samples)}"
    print(f"  {label:<58} {figures}{ratio}", flush=True)


def _tokens(settings: Settings, *usernames: str) -> list[dict[str, str]]:
    """Bearer headers for these users (tokens as a login issues them; passwords vary by run)."""
    now = datetime.now(UTC)
    with connect(settings) as conn:
        headers = []
        for username in usernames:
            found = conn.execute("SELECT id FROM users WHERE username = %s", (username,))
            row = found.fetchone()
            assert row is not None
            user_id = cast("UUID", row[0])
            token = accounts.issue_token(
                conn, user_id=user_id, now=now, lifetime=timedelta(hours=2)
            )
            headers.append({"Authorization": f"Bearer {token}"})
        conn.commit()
    return headers


def measure(settings: Settings, cohort: data.Cohort, repeats: int) -> None:
    """Time the worklist and the charts through the app, and the worklist's queries alone."""
    rng = random.Random(7)
    with TestClient(create_app(settings)) as client:
        me, boss = _tokens(settings, cohort.coordinator, cohort.supervisor)

        def worklist(headers: dict[str, str], size: int) -> Callable[[int], None]:
            def call(_: int) -> None:
                got = client.get("/api/v1/worklist", headers=headers)
                assert got.status_code == 200, got.text
                assert got.json()["total"] == size

            return call

        panel = len(cohort.panel_ids)
        _line(f"(a) worklist, {panel}-patient panel (HTTP)", _timed(repeats, worklist(me, panel)),
              WORKLIST_TARGET_MS)  # fmt: skip
        with connect(settings) as conn:
            found = conn.execute(
                "SELECT id FROM users WHERE username = %s", (cohort.coordinator,)
            ).fetchone()
            assert found is not None
            user_id = cast("UUID", found[0])

            def direct(_: int) -> None:
                built = build_worklist(
                    conn, user_id=user_id, all_patients=False, now=datetime.now(UTC), limit=1000
                )
                assert built.total == panel
                conn.rollback()

            _line("(a') worklist queries and scoring only (no HTTP)", _timed(repeats, direct),
                  WORKLIST_TARGET_MS)  # fmt: skip
        team = min(cohort.patients, panel * data.COORDINATORS_PER_SUPERVISOR)
        _line(f"    supervisor's worklist, {team:,} patients (HTTP)",
              _timed(max(20, repeats // 10), worklist(boss, team)), None)  # fmt: skip
        for name, _, _ in data.MEASURES:

            def chart(_: int, name: str = name) -> None:
                end = datetime.now(UTC)
                got = client.get(
                    f"/api/v1/patients/{rng.choice(cohort.panel_ids)}/readings",
                    params={
                        "measure": name,
                        "bucket": "1d",
                        "from": (end - timedelta(days=CHART_DAYS)).isoformat(),
                        "to": end.isoformat(),
                    },
                    headers=me,
                )
                assert got.status_code == 200, got.text
                assert len(got.json()["buckets"]) >= min(CHART_DAYS, cohort.days) - 1

            _line(f"(b) chart {CHART_DAYS} d, daily buckets, {name} (HTTP)",
                  _timed(repeats, chart), CHART_TARGET_MS)  # fmt: skip
        # Full collections walk the ~10^5 objects importing the app leaves (tens of ms);
        # frozen after start-up, they skip them.
        gc.collect()
        gc.freeze()
        _line(f"(a) worklist, {panel}-patient panel (HTTP), after gc.freeze()",
              _timed(repeats, worklist(me, panel)), WORKLIST_TARGET_MS)  # fmt: skip
        gc.unfreeze()
