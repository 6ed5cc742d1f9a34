"""Resolving an alert re-arms the detectors, and an alert whose cause is gone closes.

Through the real broker and ingest worker: a coordinator resolves an alert in
the API and the patient's monitor learns of it before the next reading it
scores, so new evidence opens a new alert instead of vanishing into the old
episode, with the scorer in the worker's process or in a child process,
and when the worker was stopped or killed in between (its monitors restored
from their checkpoints and the stored readings). An alert whose readings
return to normal is resolved automatically, once, and a later rise opens a
new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from streaming.scorer import LocalScorer, ProcessScorer, Scorer
from streaming.service import default_monitor_cache
from tests.api_support import Caller, caller
from tests.conftest import RunningWorker, start_worker
from tests.faults.observe import IngestProcess
from tests.support import (
    GatewayClient,
    ProvisionedGateway,
    bp_point,
    count,
    now_minus,
    provision,
    wait_until,
    wrap_body,
)

pytestmark = pytest.mark.services

SCORERS: dict[str, Callable[[Settings], Scorer]] = {
    "local": lambda settings: LocalScorer(default_monitor_cache()),
    "process": ProcessScorer,
}


def _coordinator(api: TestClient, conn: psycopg.Connection[Any], gw: ProvisionedGateway) -> Caller:
    """A coordinator with the patient on their panel."""
    who = caller(api, conn, "coordinator")
    put = api.put(
        f"/api/v1/patients/{gw.patient_id}/coordinators", json={"coordinators": [str(who.id)]}
    )
    assert put.status_code == 200, put.text
    return who


def _resolve(api: TestClient, who: Caller, alert_id: int) -> None:
    done = api.post(
        f"/api/v1/alerts/{alert_id}/resolve", json={"note": "called her"}, headers=who.headers
    )
    assert (done.status_code, done.json()["status"]) == (200, "resolved"), done.text


def _alerts(conn: psycopg.Connection[Any], kind: str) -> list[tuple[int, str, str]]:
    """(id, status, severity) of the patient's alerts of ``kind``, oldest first."""
    rows = conn.execute(
        "SELECT id, status, severity FROM alerts WHERE kind = %s ORDER BY id", (kind,)
    ).fetchall()
    return [(int(i), str(s), str(v)) for i, s, v in rows]


def _evidence(conn: psycopg.Connection[Any], alert_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT severity FROM alert_evidence WHERE alert_id = %s ORDER BY id", (alert_id,)
    ).fetchall()
    return [str(s) for (s,) in rows]


def _stop(running: RunningWorker) -> None:
    running.stop.set()
    running.thread.join(timeout=20)
    assert not running.thread.is_alive(), "ingest worker did not stop"


@pytest.mark.parametrize("scorer", sorted(SCORERS))
def test_after_a_coordinator_resolves_an_alert_new_evidence_opens_a_new_one(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], scorer: str
) -> None:
    gw = provision(api, kinds=["bp_cuff"])
    who = _coordinator(api, conn, gw)
    cuff = gw.serials["bp_cuff"]
    running = start_worker(settings, scorer=SCORERS[scorer](settings))
    try:
        with GatewayClient(settings, gw.gateway_id, gw.password) as client:
            client.publish_all(cuff, [bp_point(206, 100, now_minus(hours=5))])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 1)
            # The same episode: nothing new while the alert stays unresolved.
            client.publish_all(cuff, [bp_point(210, 104, now_minus(hours=4))])
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 2)
            [(first, _, _)] = _alerts(conn, "bp_high")
            _resolve(api, who, first)
            # The crisis persists: the next reading is new evidence, a new alert.
            client.publish_all(cuff, [bp_point(208, 102, now_minus(hours=3))])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 2), _alerts(conn, "bp_high")
            # ... and the new episode is one alert again.
            client.publish_all(cuff, [bp_point(211, 105, now_minus(hours=2))])
            assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 4)
    finally:
        _stop(running)
    second = _alerts(conn, "bp_high")[1][0]
    assert _alerts(conn, "bp_high") == [
        (first, "resolved", "critical"),
        (second, "open", "critical"),
    ]
    assert (_evidence(conn, first), _evidence(conn, second)) == (["critical"], ["critical"])


def test_an_alert_resolved_while_the_worker_is_stopped_reaches_the_restored_monitor(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["bp_cuff"])
    who = _coordinator(api, conn, gw)
    cuff = gw.serials["bp_cuff"]
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        running = start_worker(settings, scorer=LocalScorer(default_monitor_cache()))
        try:
            client.publish_all(cuff, [bp_point(206, 100, now_minus(hours=5))])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 1)
        finally:
            _stop(running)
        [(first, _, _)] = _alerts(conn, "bp_high")
        _resolve(api, who, first)
        # The new worker's monitor is rebuilt from the stored readings, which
        # reopen the episode; the resolution in the database closes it again.
        running = start_worker(settings, scorer=ProcessScorer(settings))
        try:
            client.publish_all(cuff, [bp_point(208, 102, now_minus(hours=3))])
            assert wait_until(lambda: len(_alerts(conn, "bp_high")) == 2), _alerts(conn, "bp_high")
        finally:
            _stop(running)
    assert [status for _, status, _ in _alerts(conn, "bp_high")] == ["resolved", "open"]


def _heart_rate(bpm: float, at: datetime) -> dict[str, Any]:
    body = {
        "heart_rate": {"value": bpm, "unit": "beats/min"},
        "effective_time_frame": {"date_time": at.isoformat()},
    }
    return wrap_body(body, "heart-rate", "2.0")


@pytest.mark.slow
def test_a_kill_9_after_a_resolution_restores_the_monitor_the_resolution_left(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """The state a resolution leaves must survive a crash, not only the alert rows.

    A heart rate of 145 is high at once; 130 is beyond the limit but needs a
    second reading to confirm it. After the first alert is resolved, 130
    opens a new, unconfirmed episode (which waits for its repeat) and the
    next 131 confirms it: a new alert, high. A monitor rebuilt without the
    resolution would still be in the first, confirmed episode: 130 and 131
    would be nothing new to it, and no new alert would open.
    """
    gw = provision(api, kinds=["pulse_oximeter"])
    who = _coordinator(api, conn, gw)
    oximeter = gw.serials["pulse_oximeter"]
    at = now_minus(hours=6)
    worker = IngestProcess(settings, tmp_path / "ingest.log")  # scorer in a child process
    with worker, GatewayClient(settings, gw.gateway_id, gw.password) as client:
        first_reading = [_heart_rate(145, at)]

        def sent_and_stored() -> bool:
            client.publish_all(oximeter, first_reading)
            return count(conn, "SELECT count(*) FROM readings") == 1

        # Until the worker's session exists, resend the first reading (stored once).
        assert wait_until(sent_and_stored, timeout=60, interval=0.5), worker.log.read_text()
        assert wait_until(lambda: len(_alerts(conn, "hr_high")) == 1)
        [(first, _, _)] = _alerts(conn, "hr_high")
        _resolve(api, who, first)
        client.publish_all(oximeter, [_heart_rate(130, at + timedelta(hours=1))])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 2)
        # The state the resolution left is checkpointed with the batch that scored 130.
        assert wait_until(
            lambda: count(conn, "SELECT readings_covered FROM detector_checkpoints") == 2
        )
        assert len(_alerts(conn, "hr_high")) == 1  # 130 waits for its repeat
        worker.kill()
        worker.start()
        client.publish_all(oximeter, [_heart_rate(131, at + timedelta(hours=2))])
        assert wait_until(lambda: count(conn, "SELECT count(*) FROM readings") == 3)
        assert wait_until(lambda: len(_alerts(conn, "hr_high")) == 2), worker.log.read_text()
        second = _alerts(conn, "hr_high")[1][0]
        assert _evidence(conn, second) == ["high"]
    assert _alerts(conn, "hr_high") == [(first, "resolved", "high"), (second, "open", "high")]
    assert len(worker.events("alert resolution reached the detectors")) == 1


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
            client.publish_all(cuff, [bp(206, 130, 0)])
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
            client.publish_all(cuff, [bp(205, 130, 4)])
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
    assert "readings back inside the limits" in note
    detail = conn.execute(
        "SELECT detail FROM alert_events WHERE alert_id = %s AND event = 'resolved_automatically'",
        (first,),
    ).fetchone()
    assert detail is not None
    assert detail[0]["cleared_by"] == note
    assert detail[0]["source"] == "engine:episode_ended"
    assert datetime.fromisoformat(detail[0]["measured_at"]) == at + timedelta(hours=3)
    assert _history(conn, second) == [("opened", None)]
