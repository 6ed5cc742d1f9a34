"""Fixtures of the simulator tests: a shared v2 ground-truth cohort (simulated data), and the
real hub served for the tests that run against it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import uvicorn

from api.app import create_app
from hub.alerting import StreamReading
from hub.settings import Settings
from simulators.groundtruth import TruthCohort, build_truth_cohort
from simulators.gt_models import TruthKind
from tests.support import wait_until

V2_START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def v2_cohort() -> TruthCohort:
    """250 patients over a year (about 100 CHF patients, 70 decompensations)."""
    return build_truth_cohort(250, seed=11, start=V2_START, days=365)


@pytest.fixture(scope="session")
def v2_readings(v2_cohort: TruthCohort) -> dict[int, list[StreamReading]]:
    """Each patient's readings, by patient index."""
    return {p.index: list(v2_cohort.patient_readings(p.index)) for p in v2_cohort.patients}


def has_lb_and_new_scale(c: TruthCohort) -> bool:
    """A cohort with a scale in pounds and a scale that replaced another."""
    lb = any("lb" in p.device_units for p in c.patients)
    return lb and bool(c.truth.of_kind(TruthKind.SCALE_REPLACED))


def find_cohort(
    n: int, *, start: datetime, days: float, want: Callable[[TruthCohort], bool]
) -> TruthCohort:
    """The first small v2 cohort (seed 0, 1, ...) that has what a test needs.

    Rare phenomena (a replaced scale in a two-month window) need a search; a
    patient's events do not move with the start date (but for Christmas and the
    season of COPD exacerbations), so the seed found is stable from day to day.
    """
    for seed in range(500):
        c = build_truth_cohort(n, seed=seed, start=start, days=days)
        if want(c):
            return c
    msg = "no seed below 500 gives the cohort wanted"
    raise AssertionError(msg)


@pytest.fixture
def live_api(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on the test API port."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=settings.api_port,
            log_config=None,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, timeout=15)
    yield f"http://127.0.0.1:{settings.api_port}"
    server.should_exit = True
    thread.join(timeout=10)
