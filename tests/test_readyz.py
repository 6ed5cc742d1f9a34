"""/readyz checks the database and the broker; /healthz stays liveness only."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from hub.services import mq_down, mq_up
from hub.settings import Settings
from ingest.session import spawn_ingest
from tests.metrics_support import Scrape, ingest_url, scrape_when

pytestmark = pytest.mark.services

CONNECTED = "lastmile_ingest_broker_connected"
CONNECTS = "lastmile_ingest_broker_connects_total"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unstarted(settings: Settings) -> TestClient:
    """The API for ``settings`` without its start-up (which needs the database)."""
    return TestClient(create_app(settings))


def test_ready_when_the_database_and_the_broker_answer(api: TestClient) -> None:
    answer = api.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    assert api.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("change", "down"),
    [
        ({"mqtt_port": "closed"}, {"broker": "broker_unavailable"}),
        ({"pg_port": "closed"}, {"database": "database_unavailable"}),
        ({"mqtt_hub_password": SecretStr("not-the-password")}, {"broker": "broker_refused"}),
        (
            {"mqtt_port": "closed", "pg_port": "closed"},
            {"broker": "broker_unavailable", "database": "database_unavailable"},
        ),
    ],
    ids=["broker-port-closed", "database-port-closed", "broker-refuses", "both-closed"],
)
def test_not_ready_names_what_is_down(
    settings: Settings, change: dict[str, Any], down: dict[str, str]
) -> None:
    update = {key: _closed_port() if value == "closed" else value for key, value in change.items()}
    client = _unstarted(settings.model_copy(update=update))
    started = time.monotonic()
    answer = client.get("/readyz")
    assert time.monotonic() - started < 10  # each check is bounded (2 s), and they run at once
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["code"] == "not_ready"
    assert body["checks"] == {"database": "ok", "broker": "ok", **down}
    for code in down.values():
        assert code in body["detail"]
    # Liveness does not depend on either.
    assert client.get("/healthz").status_code == 200


def test_stopping_the_real_broker_shows_on_readyz_and_on_the_worker(
    settings: Settings, api: TestClient, tmp_path: Path
) -> None:
    log = tmp_path / "ingest.log"
    worker = spawn_ingest(settings, log=log, log_level="INFO")
    url = ingest_url(settings)

    def connected(count: int) -> Any:
        def ready(scrape: Scrape) -> bool:
            return scrape.value(CONNECTED) == 1 and scrape.value(CONNECTS) == count

        return ready

    try:
        scrape_when(url, connected(1))
        try:
            mq_down(settings)
            answer = api.get("/readyz")
            assert answer.status_code == 503, answer.text
            assert answer.json()["checks"] == {"database": "ok", "broker": "broker_unavailable"}
            assert scrape_when(url, lambda s: s.value(CONNECTED) == 0).value(CONNECTS) == 1
        finally:
            mq_up(settings)
        assert api.get("/readyz").status_code == 200
        # The worker reconnects on its own (its session kept by the broker).
        back = scrape_when(url, connected(2))
        assert back.value("lastmile_ingest_broker_session_present") == 1
        assert back.value("lastmile_ingest_broker_sessions_lost_total") == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()
