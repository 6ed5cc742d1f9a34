"""``scripts/run``'s scenario: a simulated cohort's 30-day backfill, then live publishing.

``lastmile up`` plays ``lastmile simulate --days 30 --speed 43200 --follow``
against the ingest worker: 30 days of readings, measured in the past, arrive
within a minute, then the cohort goes on in real time. Here the scheduled
pass runs every 10 s instead of every 5 min, so that it runs (and opens
missed-readings alerts: "no blood-pressure reading for 700 h") while the
backfill is half done, as it would on a slower backfill. Afterwards no open
missed-readings alert may name a measure whose latest stored reading is
within its allowed interval: the data that arrived resolved them.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from hub.domain import Measure
from hub.pathways import get_pathway
from hub.settings import Settings
from simulators.cohort import build_cohort
from simulators.provision import provision_cohort
from simulators.publisher import SimulationStats, run_simulation
from tests.conftest import running_worker

pytestmark = pytest.mark.services

DAYS = 30
SPEED = 43_200.0  # lastmile up's default: 30 days in a minute
LIVE_S = 10.0


def _open_missed(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str, str | None]]:
    """(patient, pathway, reason, headline measure) of each unresolved missed-readings alert."""
    return conn.execute(
        "SELECT a.patient_id::text, p.pathway, a.reason,"
        " (SELECT e.measure FROM alert_evidence e WHERE e.alert_id = a.id"
        "  ORDER BY e.detected_at DESC, e.id DESC LIMIT 1)"
        " FROM alerts a JOIN patients p ON p.id = a.patient_id"
        " WHERE a.kind = 'missed_readings' AND a.status <> 'resolved'"
    ).fetchall()


def _latest(conn: psycopg.Connection[Any], patient_id: str) -> dict[Measure, datetime]:
    rows = conn.execute(
        "SELECT measure, max(measured_at) FROM readings WHERE patient_id = %s GROUP BY measure",
        (patient_id,),
    ).fetchall()
    return {Measure(m): at for m, at in rows}


def test_after_the_backfill_no_open_missed_readings_alert_names_a_measure_back_in_time(
    settings: Settings, live_api: str, conn: psycopg.Connection[Any]
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    cohort = build_cohort(6, seed=0, end=end, days=DAYS, prefix="bf0")
    fast = settings.model_copy(update={"adherence_interval_s": 10.0})
    with running_worker(fast):
        provisioned = provision_cohort(
            cohort, api_url=live_api, admin_token=settings.admin_token.get_secret_value()
        )
        stop = threading.Event()
        stats: list[SimulationStats] = []
        player = threading.Thread(
            target=lambda: stats.append(
                run_simulation(
                    cohort,
                    provisioned,
                    host=settings.mqtt_host,
                    port=settings.mqtt_port,
                    speed=SPEED,
                    follow=True,
                    stop=stop,
                )
            )
        )
        player.start()
        time.sleep(DAYS * 86_400 / SPEED + LIVE_S)
        stop.set()
        player.join(timeout=90)
        assert not player.is_alive()
        # Acknowledged means committed: every batch's checks have run.
        assert stats[0].acked == stats[0].published > 0
    now = datetime.now(UTC)

    disproved = []
    for patient_id, pathway_name, reason, headline in _open_missed(conn):
        pathway = get_pathway(pathway_name)
        latest = _latest(conn, patient_id)
        for measure, every in pathway.schedule.items():
            allowed = timedelta(hours=every + pathway.adherence.grace_hours)
            at = latest.get(measure)
            if (
                at is not None
                and now - at <= allowed
                and (headline == measure.value or measure.value in reason)
            ):
                disproved.append((patient_id, measure.value, at, reason))
    assert disproved == []

    # The scenario did what it is about: the scheduled pass opened missed-readings
    # alerts during the backfill, and the backfilled readings resolved them.
    resolved = conn.execute(
        "SELECT e.note, e.detail->>'cleared_by' FROM alert_events e"
        " JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.kind = 'missed_readings' AND e.event = 'resolved_automatically'"
    ).fetchall()
    assert resolved, "no missed-readings alert was opened during the backfill and resolved"
    for note, cleared_by in resolved:
        assert note == cleared_by
        assert re.fullmatch(r"an? [a-z-]+ reading measured [0-9: -]+ UTC arrived; .+ again", note)
