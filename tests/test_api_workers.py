"""``lastmile api --workers 2``: one port, two processes, both serving, one database.

Each request opens its own connection, so the kernel hands them to either
worker; the audit log lines say which process served each (the ``process``
field of every log line). A token issued by one worker is good on the other:
sessions live in the database, not in a worker.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from hub.settings import Settings
from tests.api_process import api_process, log_events
from tests.api_support import PASSWORD, make_user
from tests.metrics_support import parse

pytestmark = [pytest.mark.services, pytest.mark.slow]

COORDINATORS = 4
ROUNDS = 4  # per coordinator: a login and a worklist read each


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])  # field 4, after "(comm)"


def test_two_workers_serve_logins_and_worklists(
    settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    names = [f"coord-{n}" for n in range(COORDINATORS)]
    for name in names:
        make_user(conn, name)
    base = f"http://{settings.api_host}:{settings.api_port}"
    log = tmp_path / "api.log"
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def session(name: str) -> None:
        for _ in range(ROUNDS):
            # No shared client: each request is a new connection, for either worker.
            got = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": name, "password": PASSWORD},
                timeout=30,
            )
            token = got.json()["access_token"]
            listed = httpx.get(
                f"{base}/api/v1/worklist",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            with lock:
                statuses[got.status_code] += 1
                statuses[listed.status_code] += 1

    with api_process(settings, log, "--workers", "2") as proc:
        with ThreadPoolExecutor(COORDINATORS) as pool:
            list(pool.map(session, names))
        # Either worker's /metrics answers for both (prometheus_client's multiprocess mode).
        metrics = [parse(httpx.get(f"{base}/metrics", timeout=30).text) for _ in range(4)]
        served = Counter(int(e["process"]) for e in log_events(log) if e["event"] == "audit")
        workers = {pid for pid in served if _parent(pid) == proc.pid}
    requests = COORDINATORS * ROUNDS * 2
    assert statuses == {200: requests}
    assert sum(served.values()) == requests
    assert proc.pid not in served  # the supervisor serves nothing itself
    assert set(served) == workers
    assert len(workers) == 2, served
    for scrape in metrics:
        for route in ("/api/v1/auth/token", "/api/v1/worklist"):
            counted = scrape.total("lastmile_http_requests_total", route=route, status="200")
            assert counted == COORDINATORS * ROUNDS, (route, scrape.text)
    audited = conn.execute(
        "SELECT count(*) FROM audit_log WHERE action IN ('auth.login', 'GET /api/v1/worklist')"
    ).fetchone()
    assert audited == (requests,)
