"""``lastmile ingest`` and ``lastmile notify`` on their metrics ports, with real traffic.

Each runs as a child process, as in production, so its counters start at 0
and every count can be checked exactly against what was published and what
the database holds.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.push import add_subscription, enqueue_alert_push
from alerts.service import record_detection
from alerts.vapid import ensure_vapid_keys
from hub import patients
from hub.alerting import Severity
from hub.settings import Settings
from ingest.session import spawn_ingest
from tests.api_support import detection, make_user
from tests.fakes.push_service import Answer, FakePushService
from tests.metrics_support import (
    ingest_url,
    lastmile_process,
    notify_url,
    scrape_when,
    settled,
)
from tests.support import (
    GatewayClient,
    bp_point,
    count,
    now_minus,
    provision,
    weight_point,
)

pytestmark = pytest.mark.services

RECEIVED = "lastmile_ingest_messages_received_total"
STORED = "lastmile_ingest_readings_stored_total"
REJECTED = "lastmile_ingest_rejected_total"
OPENED = "lastmile_alerts_opened_total"
PUSHES = "lastmile_pushes_total"


def test_the_worker_counts_what_it_received_stored_refused_and_opened(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    gw = provision(api, kinds=["scale", "bp_cuff"])
    log = tmp_path / "ingest.log"
    worker = spawn_ingest(settings, log=log, log_level="INFO")
    url = ingest_url(settings)
    try:
        scrape_when(url, lambda s: s.value("lastmile_ingest_broker_connected") == 1)
        # On subscribing, the worker is handed what earlier tests left retained
        # on the broker (gateways' presence): counted as received, never stored
        # or refused. What this test sends is counted from where that settles.
        idle = settled(url)
        assert idle.value(REJECTED, code="unknown_device") == 0  # every code's series is there
        assert idle.total(REJECTED) == 0
        assert idle.value(STORED) == 0
        weights = [weight_point(80 + n / 10, now_minus(minutes=40 - n)) for n in range(3)]
        with GatewayClient(settings, gw.gateway_id, gw.password) as client:
            client.publish_all(gw.serials["scale"], weights)
            client.publish_all(gw.serials["scale"], [weights[0]])  # the same reading again
            client.publish_all(gw.serials["scale"], [b"{not json"])
            client.publish_all("SC-not-registered", [weight_point(81.0, now_minus(minutes=9))])
            # A hypertensive crisis: one reading opens a critical bp_high alert.
            client.publish_all(gw.serials["bp_cuff"], [bp_point(210, 125, now_minus(minutes=5))])
        published = 7
        metrics = scrape_when(
            url,
            lambda s: (
                s.value(RECEIVED) - idle.value(RECEIVED) == published
                and s.value("lastmile_ingest_batch_messages_sum")
                - idle.value("lastmile_ingest_batch_messages_sum")
                == published
                and s.value("lastmile_ingest_in_flight_messages") == 0
            ),
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()

    assert count(conn, "SELECT count(*) FROM readings") == 4
    assert metrics.value(STORED) == 4  # the resent reading is not stored twice
    assert metrics.value(REJECTED, code="malformed_json") == 1
    assert metrics.value(REJECTED, code="unknown_device") == 1
    assert metrics.total(REJECTED) == 2 == count(conn, "SELECT count(*) FROM dead_letters")
    batches = metrics.value("lastmile_ingest_batch_messages_count")
    ours = batches - idle.value("lastmile_ingest_batch_messages_count")
    assert 1 <= ours <= published
    assert metrics.value("lastmile_ingest_receive_to_commit_seconds_count") == batches
    assert 0 < metrics.value("lastmile_ingest_receive_to_commit_seconds_sum") < 60 * batches
    assert metrics.value("lastmile_ingest_scorer_seconds_count") >= 1
    assert metrics.value("lastmile_ingest_db_retries_total") == 0
    assert metrics.value("lastmile_ingest_broker_connects_total") == 1
    assert metrics.value("lastmile_ingest_broker_sessions_lost_total") == 0
    # Alerts: as many as the database opened, by kind and severity.
    opened = Counter(conn.execute("SELECT kind, severity FROM alerts").fetchall())
    assert opened[("bp_high", "critical")] == 1
    assert metrics.total(OPENED) == sum(opened.values())
    for (kind, severity), n in opened.items():
        assert metrics.value(OPENED, kind=kind, severity=severity) == n
    for secret in (gw.patient_id, gw.gateway_id, *gw.serials.values(), "SC-not-registered"):
        assert secret not in metrics.text


def _alert(conn: psycopg.Connection[Any], now: datetime) -> int:
    patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    return record_detection(conn, detection=detection(patient.id, Severity.HIGH), now=now).alert_id


def test_the_notifier_counts_pushes_by_outcome(
    settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """One push accepted, one to a subscription gone (410), one refused for good (400)."""
    key = ensure_vapid_keys(settings).application_server_key
    now = datetime.now(UTC)
    scripts = {"accepts": Answer(201), "gone": Answer(410), "refuses": Answer(413)}
    with FakePushService() as service:
        outbox: dict[str, int] = {}
        for name, answer in scripts.items():
            browser = service.subscribe(name, answer, application_server_key=key)
            user = make_user(conn, f"user-{uuid.uuid4().hex[:12]}")
            add_subscription(
                conn,
                user_id=user,
                endpoint=browser.endpoint,
                p256dh=browser.p256dh,
                auth=browser.auth,
                now=now,
            )
            [outbox[name]] = enqueue_alert_push(
                conn, alert_id=_alert(conn, now), severity=Severity.HIGH, recipients=[user], now=now
            )
        with lastmile_process(
            settings, "notify", tmp_path / "notify.log", LASTMILE_PUSH_POLL_S="0.2"
        ) as notifier:
            metrics = scrape_when(notify_url(settings), lambda s: s.total(PUSHES) == 3)
            assert notifier.poll() is None
        assert service.problems == []
        for name in scripts:
            [seen] = service.received(name)
            assert json.loads(seen.plaintext or b"{}")["alert_id"] > 0
    assert metrics.value(PUSHES, outcome="sent") == 1
    assert metrics.value(PUSHES, outcome="gone") == 1
    assert metrics.value(PUSHES, outcome="failed") == 1
    assert metrics.value(PUSHES, outcome="retrying") == 0
    sent = "SELECT sent_at IS NOT NULL, failed_at IS NOT NULL FROM push_outbox WHERE id = %s"
    assert conn.execute(sent, (outbox["accepts"],)).fetchone() == (True, False)
    assert conn.execute(sent, (outbox["refuses"],)).fetchone() == (False, True)
    # The alerts were opened here, in the test's process, not the notifier's.
    assert metrics.total(OPENED) == 0
