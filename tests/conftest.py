"""Fixtures over the project's real private services.

The test services have their own data folder and ports (``.lastmile-test``,
PostgreSQL 55433, Mosquitto 18884, the read replica 56433 when a test starts
it) so a running development hub is left alone. Each test that needs the
database gets a fresh one cloned from a template that has every migration
applied.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from flows.worker import IngestWorker
from hub.db import connect, migrate_database
from hub.settings import PROJECT_ROOT, Settings, load_settings
from ingest.session import discard_session
from streaming.scorer import Scorer

pytest_plugins = ["tests.proof_plugin"]

TEST_DATA_DIR = PROJECT_ROOT / ".lastmile-test"
TEST_OVERRIDES: dict[str, Any] = {
    "data_dir": TEST_DATA_DIR,
    "pg_port": 55433,
    "mqtt_port": 18884,
    "api_port": 8809,
    "ingest_metrics_port": 9811,
    "notify_metrics_port": 9812,
    # The read replica's (not pg_port + 1: that is the benchmarks' cluster's).
    "pg_replica_port": 56433,
    "environment": "development",
}
TEMPLATE_DB = "lastmile_template"
CONFORMANCE = PROJECT_ROOT.parent / "shared" / "conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--services-port-offset",
        type=int,
        default=0,
        help="Add this to the test services' ports (PostgreSQL, Mosquitto, API, metrics), so that "
        "a second checkout can run its tests beside this one.",
    )


def pytest_configure(config: pytest.Config) -> None:
    offset = int(config.getoption("--services-port-offset"))
    for key in (
        "pg_port",
        "mqtt_port",
        "api_port",
        "ingest_metrics_port",
        "notify_metrics_port",
        "pg_replica_port",
    ):
        TEST_OVERRIDES[key] += offset


@pytest.fixture(scope="session")
def services() -> Settings:
    """Start (or find running) the private PostgreSQL and Mosquitto for tests."""
    from hub.services import up

    base = load_settings(**TEST_OVERRIDES)
    settings = up(base)
    with connect(settings, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    # `lastmile db migrate`: the API checks the schema and logs in as its own role.
    migrate_database(settings.model_copy(update={"pg_database": TEMPLATE_DB}))
    with connect(settings, dbname="postgres") as conn:
        conn.autocommit = True
        # TimescaleDB's scheduler keeps a session in every database with the
        # extension; a template must have none, so it takes no connections.
        conn.execute(f'ALTER DATABASE "{TEMPLATE_DB}" WITH ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (TEMPLATE_DB,),
        )
    return settings


@pytest.fixture
def settings(services: Settings) -> Iterator[Settings]:
    """Settings pointing at a fresh database cloned from the migrated template."""
    with fresh_database(services) as fresh:
        yield fresh


@contextmanager
def fresh_database(services: Settings) -> Iterator[Settings]:
    """A database cloned from the template, with its own ingest session; dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with connect(services, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    client_id = f"lastmile-ingest-{name}"
    yield services.model_copy(update={"pg_database": name, "mqtt_ingest_client_id": client_id})
    discard_session(services, client_id)
    with connect(services, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with connect(settings) as connection:
        connection.autocommit = True
        yield connection


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    token = settings.admin_token.get_secret_value()
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@dataclass
class RunningWorker:
    worker: IngestWorker
    thread: threading.Thread
    stop: threading.Event


@pytest.fixture
def worker(settings: Settings) -> Iterator[RunningWorker]:
    """An in-process ingest worker on the test's database."""
    with running_worker(settings) as running:
        yield running


@contextmanager
def running_worker(settings: Settings) -> Iterator[RunningWorker]:
    """An in-process ingest worker, stopped (and checked to stop) on exit."""
    running = start_worker(settings)
    yield running
    running.stop.set()
    running.thread.join(timeout=20)
    assert not running.thread.is_alive(), "ingest worker did not stop"


def start_worker(settings: Settings, *, scorer: Scorer | None = None) -> RunningWorker:
    stop = threading.Event()
    ingest_worker = IngestWorker(settings, scorer=scorer)
    thread = threading.Thread(target=ingest_worker.run, args=(stop,), daemon=True)
    thread.start()
    assert ingest_worker.wait_connected(20), "ingest worker did not connect"
    return RunningWorker(ingest_worker, thread, stop)


def conformance_dir() -> Path:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"conformance data not found at {CONFORMANCE}")
    return CONFORMANCE


@pytest.fixture
def empty_db(services: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A database of its own with nothing in it (no migrations applied)."""
    name = f"empty_{uuid.uuid4().hex[:10]}"
    with connect(services, dbname="postgres") as admin:
        admin.autocommit = True
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with connect(services, dbname=name) as conn:
            yield conn
    finally:
        with connect(services, dbname="postgres") as admin:
            admin.autocommit = True
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
