"""Fixtures of the simulator tests that run against the real hub."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn

from api.app import create_app
from hub.settings import Settings
from tests.support import wait_until


@pytest.fixture
def live_api(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on the test API port."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=settings.api_port,
            log_config=None,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, timeout=15)
    yield f"http://127.0.0.1:{settings.api_port}"
    server.should_exit = True
    thread.join(timeout=10)
