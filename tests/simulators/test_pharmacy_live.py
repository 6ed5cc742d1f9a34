"""The simulated pharmacy's feed against the real API, broker, ingest worker and database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from devices.feeds import set_feed_status
from hub.settings import Settings
from simulators.cohort import Cohort, build_cohort
from simulators.pharmacy import PHARMACY_SYSTEM, SimFill, draw_pharmacy
from simulators.provision import ProvisionedFeed, provision_cohort, provision_feed
from simulators.publisher import SimulationStats, run_simulation
from tests.conftest import RunningWorker
from tests.support import count, wait_until

pytestmark = pytest.mark.services

STORED = "SELECT count(*) FROM dispenses WHERE feed_id = %s AND source = 'mqtt'"


def _simulate(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], *, n: int, disabled: bool
) -> tuple[Cohort, ProvisionedFeed, SimulationStats]:
    cohort = build_cohort(n, seed=11, end=datetime.now(UTC).replace(microsecond=0), days=20)
    token = settings.admin_token.get_secret_value()
    provisioned = provision_cohort(cohort, api_url="", admin_token=token, client=api)
    feed = provision_feed(label="simulated pharmacy", api_url="", admin_token=token, client=api)
    if disabled:
        set_feed_status(conn, feed_id=feed.feed_id, status="disabled")
    stats = run_simulation(
        cohort, provisioned, host=settings.mqtt_host, port=settings.mqtt_port, speed=0, feed=feed
    )
    return cohort, feed, stats


def _sent(cohort: Cohort) -> list[SimFill]:
    return [f for b in draw_pharmacy(cohort).batches(cohort.start, cohort.end) for f in b.fills]


def test_a_short_simulation_stores_every_fill_it_publishes(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    cohort, feed, stats = _simulate(settings, api, conn, n=6, disabled=False)
    assert count(conn, "SELECT count(*) FROM pharmacy_feeds") == 1
    sent = _sent(cohort)
    assert stats.fills == len(sent) > 0
    assert stats.fills_acked == stats.fills
    assert stats.fill_messages < stats.fills  # the backlog goes in one array
    # Nothing lost: every fill published is a row, or was rejected on the errors topic.
    assert wait_until(
        lambda: count(conn, STORED, feed.feed_id) + stats.fill_errors == stats.fills, timeout=30
    ), (count(conn, STORED, feed.feed_id), stats)
    assert stats.fill_errors == 0, stats.fill_rejections
    rows = conn.execute("SELECT identifier, patient_id, classes FROM dispenses").fetchall()
    assert {r[0] for r in rows} == {f"{PHARMACY_SYSTEM}|{f.identifier}" for f in sent}
    assert all(patient_id is not None and classes for _, patient_id, classes in rows)
    # Readings went through as before, beside the fills.
    assert stats.acked == stats.published > 0
    assert wait_until(
        lambda: count(conn, "SELECT count(*) FROM readings") == stats.valid_points, timeout=30
    )


def test_every_fill_a_disabled_feed_sends_is_counted_as_rejected(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    cohort, feed, stats = _simulate(settings, api, conn, n=2, disabled=True)
    assert stats.fills == len(_sent(cohort)) > 0
    assert stats.fill_errors == stats.fills
    assert stats.fill_rejections == {"feed_disabled": stats.fills}
    assert count(conn, STORED, feed.feed_id) == 0
    assert count(conn, "SELECT count(*) FROM dead_letters WHERE feed_id = %s", feed.feed_id) == (
        stats.fills
    )
