"""``lastmile api`` as a real child process (uvicorn, its workers), for the tests that need one."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.settings import PROJECT_ROOT, Settings


def api_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "lastmile", "--log-level", "INFO", "api", *args]


def log_events(log: Path) -> list[dict[str, Any]]:
    """The JSON lines of a log file (other lines, such as a traceback's, skipped)."""
    found = []
    for line in log.read_bytes().splitlines():
        if line[:1] == b"{":
            event = orjson.loads(line)
            if isinstance(event, dict):
                found.append(event)
    return found


@contextmanager
def api_process(settings: Settings, log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``lastmile api ARGS`` on ``settings``, serving once its /healthz answers; stopped after."""
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            api_argv(*args),
            env=settings.subprocess_env(),
            cwd=PROJECT_ROOT,
            stdout=sink,
            stderr=sink,
        )
    try:
        url = f"http://{settings.api_host}:{settings.api_port}/healthz"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"lastmile api exited {proc.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"lastmile api did not serve:\n{log.read_text()}"
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
