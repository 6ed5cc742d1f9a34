"""An alert whose cause is gone closes, through the real broker and ingest worker.

When a patient's readings return to normal, the detector's episode ends and
the alert is resolved automatically, once, in the transaction of the reading
that showed it; a later rise opens a new alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from streaming.scorer import LocalScorer, ProcessScorer
from streaming.service import default_monitor_cache
from tests.conftest import RunningWorker, start_worker
from tests.support import GatewayClient, bp_point, count, now_minus, provision, wait_until

pytestmark = pytest.mark.services


def _alerts(conn: psycopg.Connection[Any], kind: str) -> list[tuple[int, str, str]]:
    """(id, status, severity) of the patient's alerts of ``kind``, oldest first."""
    rows = conn.execute(
        "SELECT id, status, severity FROM alerts WHERE kind = %s ORDER BY id", (kind,)
    ).fetchall()
    return [(int(i), str(s), str(v)) for i, s, v in rows]


def _stop(running: RunningWorker) -> None:
    running.stop.set()
    running.thread.join(timeout=20)
    assert not running.thread.is_alive(), "ingest worker did not stop"


def _history(conn: psycopg.Connection[Any], alert_id: int) -> list[tuple[str, str | None]]:
    rows = conn.execute(
        "SELECT event, note FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,)
    ).fetchall()
    return [(str(e), n) for e, n in rows]


def test_an_alert_whose_readings_return_to_normal_resolves_automatically_once(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["bp_cuff"])
    cuff = gw.serials["bp_cuff"]
    at = now_minus(hours=10)

    def bp(systolic: float, diastolic: float, hour: int) -> dict[str, Any]:
        return bp_point(systolic, diastolic, at + timedelta(hours=hour))

    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        running = start_worker(settings, scorer=ProcessScorer(settings))
        try:
            client.publish_all(cuff, [bp(186, 100, 0)])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 1)
            [(first, _, _)] = _alerts(conn, "bp_high")
            # Two normal readings: not yet back for long enough.
            client.publish_all(cuff, [bp(140, 90, 1), bp(138, 88, 2)])
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 3)
            assert _alerts(conn, "bp_high") == [(first, "open", "critical")]
            # The third in a row ends the episode: the alert resolves itself.
            client.publish_all(cuff, [bp(136, 86, 3)])
            assert wait_until(lambda: _alerts(conn, "bp_high")[0][1] == "resolved")
            # A later rise is a new episode and a new alert.
            client.publish_all(cuff, [bp(185, 100, 4)])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 2)
        finally:
            _stop(running)
        # A restarted worker replays the readings that closed the first alert;
        # that closure was applied when they were stored and must not resolve
        # the second alert now.
        running = start_worker(settings, scorer=LocalScorer(default_monitor_cache()))
        try:
            client.publish_all(cuff, [bp(139, 89, 5)])
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 6)
        finally:
            _stop(running)
    second = _alerts(conn, "bp_high")[1][0]
    assert _alerts(conn, "bp_high") == [
        (first, "resolved", "critical"),
        (second, "open", "critical"),
    ]
    [(event, note)] = [h for h in _history(conn, first) if h[0] != "opened"]
    assert event == "resolved_automatically"
    assert note is not None
    assert "back within the patient's normal band" in note
    detail = conn.execute(
        "SELECT detail FROM alert_events WHERE alert_id = %s AND event = 'resolved_automatically'",
        (first,),
    ).fetchone()
    assert detail is not None
    assert detail[0]["cleared_by"] == note
    assert detail[0]["source"] == "engine:episode_ended"
    assert datetime.fromisoformat(detail[0]["measured_at"]) == at + timedelta(hours=3)
    assert _history(conn, second) == [("opened", None)]
