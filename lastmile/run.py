"""``lastmile up``: the whole hub on one machine, for a demo or development.

Starts the private services, applies migrations and sets up the API's
database role (``lastmile db migrate``), then supervises the ingest
worker (or ``ingest_workers`` of them), the API, the notifier (Web Push and
escalation), the vendors' puller (when a vendor cloud is configured) and a
simulated cohort as child processes (restarting one that dies), until
SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import click
import httpx

from hub.db import migrate_database
from hub.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "lastmile", *self.argv])
        self.started_at = time.monotonic()


def _wait_for_api(settings: Settings, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    url = f"http://{settings.api_host}:{settings.api_port}/healthz"
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


#: What the simulated nurses' month shows the demo coordinator (lastmile simulate --care).
_MONTH = (
    "  The month's care:   simulated nurses put the cohort in RPM, CCM and TCM and logged\n"
    "                      the month's time and calls: patients billable, reachable and lost\n"
    "                      this month, a TCM contact due today and one overdue (the\n"
    "                      simulator's 'care at' line counts them)\n"
)


def ingest_children(settings: Settings) -> list[Child]:
    """The ingest worker, or ``ingest_workers`` of them as slots 0, 1, ... (docs/scaling.md).

    A slot that dies is restarted as the same slot: its persistent session
    holds its share of the messages until it comes back.
    """
    if settings.ingest_workers == 1:
        return [Child("ingest", ["ingest"])]
    return [
        Child(f"ingest-{slot}", ["ingest", "--slot", str(slot)])
        for slot in range(settings.ingest_workers)
    ]


def run_hub(
    settings: Settings,
    *,
    patients: int,
    days: int,
    speed: float,
    stop: threading.Event,
    api_workers: int = 1,
) -> None:
    migrate_database(settings)  # `lastmile db migrate`: the API only checks the schema
    from api.demo import ensure_demo_login

    demo_user, demo_password = ensure_demo_login(settings)
    api = Child("api", ["api", "--workers", str(api_workers)])
    notify = Child("notify", ["notify"])
    children = [*ingest_children(settings), api, notify]
    if settings.vendors_enabled:  # lastmile vendors: the vendor clouds' puller
        children.append(Child("vendors", ["vendors"]))
    for child in children:
        child.start()
    if not _wait_for_api(settings):
        click.echo("the API did not come up; see the log above", err=True)
    simulator = Child(
        "simulator",
        [
            "simulate",
            "--patients",
            str(patients),
            "--days",
            str(days),
            "--speed",
            str(speed),
            "--follow",
            "--coordinator",
            demo_user,
        ],
    )
    simulator.start()
    children.append(simulator)
    base = f"http://{settings.api_host}:{settings.api_port}"
    click.echo(
        "\nLastmile is running.\n"
        f"  Dashboard:          {base}/   log in as {demo_user} / {demo_password}\n"
        f"                      (also in {settings.data_dir / 'demo-login.txt'})\n"
        f"  API and its docs:   {base}/docs   (OpenAPI: {base}/openapi.json)\n"
        f"  MQTT broker:        {settings.mqtt_host}:{settings.mqtt_port} (no anonymous access)\n"
        f"  PostgreSQL:         {settings.pg_host}:{settings.pg_port} db {settings.pg_database}\n"
        f"  Admin token, DB and broker passwords: {settings.env_file}\n"
        f"  Data and logs:      {settings.data_dir}\n"
        "  Latest readings and a ready curl command for the readings API:  lastmile readings\n"
        + _MONTH * (settings.environment != "production")
        + "Stop with Ctrl-C.\n"
    )
    try:
        while not stop.wait(1.0):
            for child in children:
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                if child is simulator and code == 0:
                    continue  # finished its backfill without --follow
                child.restarts += 1
                delay = min(30, 2**child.restarts)
                log.warning(
                    "child exited; restarting",
                    extra={"child": child.name, "code": code, "in_s": delay},
                )
                if stop.wait(delay):
                    break
                child.start()
    finally:
        for child in reversed(children):
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        # Workers of several drain first (at most ingest_drain_s).
        deadline = time.monotonic() + max(20.0, settings.ingest_drain_s + 10)
        for child in children:
            if child.process is not None:
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
