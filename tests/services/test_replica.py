"""The read replica, for real: a private hot standby streaming from the private primary.

``lastmile services up --replica`` makes and starts it; the API reads the
worklist and readings from it. What is shown here:

- a committed write is visible on the replica within :data:`LAG_BOUND_S`
  (measured, and written to the proof table; a few milliseconds is usual);
- readings (the charts) are served by the replica: with its replay paused, a
  new reading is missing from the answer, until the replica lags beyond
  ``database_read_max_lag_s`` and the primary answers;
- the worklist is never older than the request: an alert just acknowledged
  shows as acknowledged even while the replica's replay is paused;
- with the primary gone, a request is a coded 503 within the pool's timeout,
  not a hang, and the API recovers when the primary is back.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from hub.db import connect
from hub.services import down, pg_stop_immediate, pg_up, status, up
from hub.services.cli import services as services_cli
from hub.services.replica import replica_read_url, replica_remove, replica_up
from hub.settings import Settings
from tests.api_support import Caller, caller, enroll
from tests.care_support import device, reading
from tests.conftest import fresh_database
from tests.proof import ProofRow
from tests.support import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

#: The stated bound: a committed write is readable on the replica within this.
LAG_BOUND_S = 1.0


@pytest.fixture(scope="module")
def with_replica(services: Settings) -> Iterator[Settings]:
    """The session's services with the hot standby running, and the read URL set."""
    replica_up(services)
    url = SecretStr(replica_read_url(services))
    yield services.model_copy(update={"database_read_url": url})
    replica_remove(services)  # its slot would otherwise keep the session's WAL


@pytest.fixture
def replicated(with_replica: Settings) -> Iterator[Settings]:
    """A fresh database of its own, readable on the replica too."""
    with fresh_database(with_replica) as fresh:
        assert wait_until(lambda: _on_replica(fresh), timeout=30)
        yield fresh


def _on_replica(settings: Settings) -> bool:
    try:
        psycopg.connect(settings.read_conninfo_for(settings.pg_database)).close()
    except psycopg.OperationalError:
        return False
    return True


def _replica(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    """The owner's connection to the replica's copy of the test's database (autocommit)."""
    return psycopg.connect(settings.read_conninfo_for(settings.pg_database), autocommit=True)


def _pause_replay(settings: Settings) -> None:
    with _replica(settings) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        assert wait_until(
            lambda: conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() == ("paused",)
        )


def _resume_replay(settings: Settings) -> None:
    with _replica(settings) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")


def test_the_replica_is_a_hot_standby_of_the_primary(replicated: Settings) -> None:
    with _replica(replicated) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        receiver = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
        assert receiver == ("streaming",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (n int)")
    with connect(replicated) as conn:
        sent = conn.execute(
            "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'lastmile_replica'"
        ).fetchone()
        assert sent == (1,)


def test_a_write_is_visible_on_the_replica_within_the_stated_lag(
    replicated: Settings, proof: ProofRow
) -> None:
    """The lag, measured, is in the proof table (test-artifacts/proof.md) and the summary."""
    with connect(replicated) as primary, _replica(replicated) as replica:
        primary.execute("CREATE TABLE lag_probe (n int PRIMARY KEY)")
        primary.commit()
        assert wait_until(
            lambda: replica.execute("SELECT to_regclass('lag_probe')").fetchone() != (None,)
        )
        lags = []
        for n in range(50):
            primary.execute("INSERT INTO lag_probe VALUES (%s)", (n,))
            primary.commit()
            committed = time.monotonic()
            while replica.execute("SELECT 1 FROM lag_probe WHERE n = %s", (n,)).fetchone() is None:
                assert time.monotonic() - committed < 10, f"write {n} not on the replica in 10 s"
            lags.append(time.monotonic() - committed)
    lags.sort()
    p50, p95 = statistics.median(lags), lags[int(0.95 * len(lags)) - 1]
    measured = f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
    proof.load = f"{len(lags)} committed writes read back on the replica"
    proof.notes.append(f"lag {measured}; bound {LAG_BOUND_S * 1000:.0f} ms")
    assert lags[-1] < LAG_BOUND_S


def _fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Why each read the API meant for the replica went to the primary (its log lines)."""
    return [
        str(getattr(r, "reason", None))
        for r in caplog.records
        if r.name == "api.deps" and r.getMessage() == "read_from_primary"
    ]


def _chart(api: TestClient, who: Caller, patient_id: UUID) -> list[str] | None:
    """The measured times of the patient's weight readings, as the chart gets them (None: 503)."""
    got = api.get(
        f"/api/v1/patients/{patient_id}/readings",
        params={"measure": "body-weight"},
        headers=who.headers,
    )
    if got.status_code == 503:
        return None
    assert got.status_code == 200, got.text
    return [point["measured_at"] for point in got.json()["points"]]


def _chart_size(api: TestClient, who: Caller, patient_id: UUID) -> int | None:
    points = _chart(api, who, patient_id)
    return None if points is None else len(points)


def _patient_with_a_scale(
    api: TestClient, conn: psycopg.Connection[Any], who: Caller
) -> tuple[UUID, str]:
    patient_id = enroll(api, who, "MRN-replica")
    serial = device(conn, patient_id)
    reading(conn, serial, datetime.now(UTC) - timedelta(hours=2))
    conn.commit()
    return patient_id, serial


@pytest.mark.parametrize(
    ("max_lag_s", "paused_s", "points", "fallbacks"),
    [(30.0, 0.0, 1, []), (0.5, 1.0, 2, ["lagging"])],
    ids=["within-the-bound-from-the-replica", "beyond-it-from-the-primary"],
)
def test_the_charts_are_served_from_the_replica_while_it_lags_within_the_bound(
    replicated: Settings,
    caplog: pytest.LogCaptureFixture,
    max_lag_s: float,
    paused_s: float,
    points: int,
    fallbacks: list[str],
) -> None:
    """With the replica's replay paused a new reading is on the primary only: the chart
    lacks it while the replica lags less than the bound, and has it once past it."""
    settings = replicated.model_copy(update={"database_read_max_lag_s": max_lag_s})
    with connect(settings) as conn, TestClient(create_app(settings)) as api:
        nurse = caller(api, conn, "nurse")
        patient_id, serial = _patient_with_a_scale(api, conn, nurse)
        assert wait_until(lambda: _chart_size(api, nurse, patient_id) == 1)
        _pause_replay(settings)
        try:
            reading(conn, serial, datetime.now(UTC) - timedelta(hours=1))
            conn.commit()
            time.sleep(paused_s)  # the newest commit the replica replayed ages meanwhile
            with caplog.at_level(logging.WARNING, logger="api.deps"):
                caplog.clear()
                assert _chart_size(api, nurse, patient_id) == points
                assert _fallbacks(caplog) == fallbacks
        finally:
            _resume_replay(settings)
        assert wait_until(lambda: _chart_size(api, nurse, patient_id) == 2)


def _open_high_alert(conn: psycopg.Connection[Any], patient_id: UUID) -> int:
    row = conn.execute(
        "INSERT INTO alerts (patient_id, kind, severity, status, source, reason, opened_at,"
        " updated_at) VALUES (%s, 'weight_gain', 'high', 'open', 'rule:test',"
        " 'Weight up 2.4 kg in 72 h (limit 2.0 kg).', now(), now()) RETURNING id",
        (patient_id,),
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(str(row[0]))


def _alert_counts(api: TestClient, who: Caller) -> dict[str, Any]:
    got = api.get("/api/v1/worklist", headers=who.headers)
    assert got.status_code == 200, got.text
    [row] = got.json()["patients"]
    counts: dict[str, Any] = row["alerts"]
    return counts


@pytest.mark.parametrize("replay", ["running", "paused"])
def test_an_acknowledged_alert_is_never_shown_open_again(
    replicated: Settings, replay: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Read-your-writes: the worklist is read from the replica only once it has replayed
    what was committed before the request; otherwise (replay paused) from the primary."""
    # Replay running, the replica has plenty of time to catch up (a few ms is usual).
    wait = {"running": 5.0, "paused": 0.25}[replay]
    settings = replicated.model_copy(update={"database_read_wait_s": wait})
    with connect(settings) as conn, TestClient(create_app(settings)) as api:
        nurse = caller(api, conn, "nurse")
        patient_id = enroll(api, nurse, "MRN-ack")
        alert_id = _open_high_alert(conn, patient_id)
        assert wait_until(lambda: _alert_counts(api, nurse)["high"] == 1)
        if replay == "paused":
            _pause_replay(settings)
        try:
            acked = api.post(f"/api/v1/alerts/{alert_id}/ack", headers=nurse.headers)
            assert acked.status_code == 200, acked.text
            with caplog.at_level(logging.WARNING, logger="api.deps"):
                caplog.clear()
                counts = _alert_counts(api, nurse)  # at once: no waiting in the test
                fallbacks = _fallbacks(caplog)
        finally:
            _resume_replay(settings)
    assert counts["acknowledged"] == 1
    assert fallbacks == ([] if replay == "running" else ["lagging"])


def test_the_primary_going_away_is_a_coded_503_not_a_hang(
    services: Settings, replicated: Settings, proof: ProofRow
) -> None:
    settings = replicated.model_copy(update={"pg_pool_timeout_s": 2.0})
    proof.load = "a write and a chart read, replica up"
    proof.faults = "primary stopped (immediate), then started"
    with connect(settings) as conn, TestClient(create_app(settings)) as api:
        nurse = caller(api, conn, "nurse")
        patient_id, _ = _patient_with_a_scale(api, conn, nurse)
        pg_stop_immediate(services)
        try:
            new_patient = {"identifiers": [{"system": "urn:mrn", "value": "M-2"}]}
            for method, path, body in [
                ("POST", "/api/v1/patients", new_patient),  # a write
                ("GET", f"/api/v1/patients/{patient_id}/readings?measure=body-weight", None),
            ]:
                started = time.monotonic()
                got = api.request(method, path, json=body, headers=nurse.headers)
                took = time.monotonic() - started
                assert got.status_code == 503, got.text
                assert got.json()["code"] == "database_unavailable"
                assert got.headers["Retry-After"] == "5"
                assert took < settings.pg_pool_timeout_s + 3, f"{method} {path}: {took:.1f} s"
                proof.notes.append(f"{method} with the primary away: 503 in {took:.1f} s")
            # The replica itself stays up, read-only, for whoever can read it directly.
            with _replica(settings) as replica:
                assert replica.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        finally:
            pg_up(services)
        assert wait_until(lambda: _chart_size(api, nurse, patient_id) == 1, timeout=30)
    with _replica(settings) as replica:
        assert wait_until(
            lambda: (
                replica.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
                == ("streaming",)
            ),
            timeout=60,
        )


def test_services_up_replica_says_how_to_use_it_and_down_stops_it(
    with_replica: Settings,
) -> None:
    shown = CliRunner().invoke(services_cli, ["up", "--replica"], obj=with_replica)
    assert shown.exit_code == 0, shown.output
    assert "postgresql-replica: running" in shown.output
    assert f"LASTMILE_DATABASE_READ_URL='{replica_read_url(with_replica)}'" in shown.output
    stopped = down(with_replica)
    assert [(s.name, s.running) for s in stopped] == [
        ("postgresql", False),
        ("mosquitto", False),
        ("postgresql-replica", False),
    ]
    up(with_replica, replica=True)  # the rest of the session needs them
    assert all(s.running for s in status(with_replica))
