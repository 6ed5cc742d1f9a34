"""Scraping the hub's metrics endpoints as Prometheus would, and its processes for tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub.settings import Settings


@dataclass(frozen=True)
class Scrape:
    """One scrape: every sample, by name and labels."""

    text: str
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a labelled series not yet made (a counter never moved)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.samples)


def parse(text: str) -> Scrape:
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return Scrape(text, samples)


def scrape(url: str) -> Scrape:
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain"), answer.headers
    return parse(answer.text)


def scrape_when(url: str, ready: Callable[[Scrape], bool], *, timeout: float = 30) -> Scrape:
    """Scrape until ``ready(scrape)`` is true (the port may not be open yet); the last scrape."""
    deadline = time.monotonic() + timeout
    last: Scrape | None = None
    while True:
        try:
            last = scrape(url)
            if ready(last):
                return last
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            detail = last.text if last is not None else "no answer"
            raise AssertionError(f"{url} never showed what was awaited:\n{detail}")
        time.sleep(0.2)


def settled(url: str, *, quiet_s: float = 1.5, timeout: float = 30) -> Scrape:
    """Scrape until the worker has had nothing in hand for ``quiet_s``: the last scrape."""
    deadline = time.monotonic() + timeout
    last = scrape_when(url, lambda s: True, timeout=timeout)
    since = time.monotonic()
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never settled:\n{last.text}")
        time.sleep(0.3)
        now = scrape(url)
        moved = now.value("lastmile_ingest_messages_received_total") != last.value(
            "lastmile_ingest_messages_received_total"
        )
        if moved or now.value("lastmile_ingest_in_flight_messages") != 0:
            since = time.monotonic()
        last = now
    return last


def ingest_url(settings: Settings) -> str:
    return f"http://{settings.metrics_host}:{settings.ingest_metrics_port}/metrics"


def notify_url(settings: Settings) -> str:
    return f"http://{settings.metrics_host}:{settings.notify_metrics_port}/metrics"


def api_base(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


@contextmanager
def lastmile_process(
    settings: Settings, command: str, log: Path, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``lastmile <command>`` as a child process on ``settings``; terminated on exit."""
    argv = [sys.executable, "-m", "lastmile", "--log-level", "INFO", command]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            argv, env=settings.subprocess_env(**env), stdout=subprocess.DEVNULL, stderr=sink
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def api_process(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``lastmile api`` as a child process, once it answers ``/healthz``."""
    with lastmile_process(settings, "api", log) as process:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"lastmile api exited:\n{log.read_text()}"
            try:
                if httpx.get(f"{api_base(settings)}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"lastmile api did not come up:\n{log.read_text()}"
            time.sleep(0.2)
        yield process
