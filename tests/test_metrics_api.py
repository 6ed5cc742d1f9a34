"""The API's /metrics: requests by route template and status, in one process and in several."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from hub.metrics import MULTIPROC_ENV, use_multiprocess
from hub.settings import Settings
from tests.metrics_support import Scrape, api_base, api_process, parse, scrape

pytestmark = pytest.mark.services

PATIENT = "/api/v1/patients/{patient_id}"
REQUESTS = "lastmile_http_requests_total"
LATENCY_COUNT = "lastmile_http_request_seconds_count"


def _metrics(api: TestClient) -> Scrape:
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


def test_requests_are_counted_by_route_template_and_status(api: TestClient) -> None:
    ids = [api.post("/api/v1/patients", json={"pathway": "CHF"}).json()["id"] for _ in range(2)]
    missing = str(uuid.uuid4())
    before = _metrics(api)
    for patient_id in ids:
        assert api.get(f"/api/v1/patients/{patient_id}").status_code == 200
    assert api.get(f"/api/v1/patients/{missing}").status_code == 404
    assert api.get("/api/v1/patients/not-a-uuid").status_code == 422
    assert api.get(f"/no/such/{missing}").status_code == 404
    after = _metrics(api)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved(REQUESTS, method="GET", route=PATIENT, status="200") == 2
    assert moved(REQUESTS, method="GET", route=PATIENT, status="404") == 1
    assert moved(REQUESTS, method="GET", route=PATIENT, status="422") == 1
    assert moved(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert moved(LATENCY_COUNT, method="GET", route=PATIENT) == 4
    # The scrape before this one is counted too, under its own route.
    assert moved(REQUESTS, method="GET", route="/metrics", status="200") == 1
    # No path, and so no patient id, ever becomes a label.
    for value in [*ids, missing, "not-a-uuid", "/no/such"]:
        assert value not in after.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_api_processes_sharing_the_metrics_folder_report_their_sum(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several API processes (uvicorn's workers) count in one folder; any of them reports all."""
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)  # restored after the test
    stale = settings.api_metrics_dir / "counter_1.db"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"left by an earlier run")
    folder = use_multiprocess(settings)
    assert not stale.exists()
    second = settings.model_copy(update={"api_port": _free_port()})
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    with (
        api_process(settings, tmp_path / "api-1.log"),
        api_process(second, tmp_path / "api-2.log"),
    ):
        one, two = api_base(settings), api_base(second)
        made = httpx.post(f"{one}/api/v1/patients", json={"pathway": "CHF"}, headers=headers)
        assert made.status_code == 201, made.text
        patient = made.json()["id"]
        for base, times in ((one, 2), (two, 3)):
            for _ in range(times):
                got = httpx.get(f"{base}/api/v1/patients/{patient}", headers=headers)
                assert got.status_code == 200
        assert httpx.get(f"{two}/api/v1/patients/{patient}").status_code == 401
        from_one, from_two = scrape(f"{one}/metrics"), scrape(f"{two}/metrics")
        files = sorted(p.name for p in folder.glob("*.db"))
    for metrics in (from_one, from_two):
        assert metrics.value(REQUESTS, method="GET", route=PATIENT, status="200") == 5
        assert metrics.value(REQUESTS, method="GET", route=PATIENT, status="401") == 1
        assert metrics.value(REQUESTS, method="POST", route="/api/v1/patients", status="201") == 1
        assert metrics.value(LATENCY_COUNT, method="GET", route=PATIENT) == 6
        assert patient not in metrics.text
    # One file per process and kind of metric.
    assert len([name for name in files if name.startswith("counter_")]) == 2, files
    assert len([name for name in files if name.startswith("histogram_")]) == 2, files
