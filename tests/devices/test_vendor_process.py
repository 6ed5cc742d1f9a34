"""``lastmile vendors`` as a whole, and the vendor gateway hearing its rejections."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from devices.adapters.publisher import VendorPublisher
from devices.vendors import run_vendors
from hub.settings import Settings
from tests.conftest import RunningWorker
from tests.devices.fitbit_support import connect, stored
from tests.fakes.fitbit_api import FakeFitbit
from tests.support import count, wait_until, weight_point

pytestmark = pytest.mark.services


def test_the_vendors_process_pulls_a_connected_account_into_the_hub(
    api: TestClient,
    conn: psycopg.Connection[Any],
    fake: FakeFitbit,
    settings: Settings,
    worker: RunningWorker,
) -> None:
    linked = connect(api, fake)
    stop = threading.Event()
    fast = settings.model_copy(update={"vendors_poll_s": 0.2})
    thread = threading.Thread(target=run_vendors, args=(fast, stop), daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: stored(conn, linked.patient_id) == 6, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_a_rejected_vendor_point_comes_back_on_the_gateways_errors_topic(
    api: TestClient,
    conn: psycopg.Connection[Any],
    fake: FakeFitbit,
    publisher: VendorPublisher,
    worker: RunningWorker,
) -> None:
    connect(api, fake)
    implausible = weight_point(900.0, datetime.now(UTC).replace(microsecond=0))
    publisher.publish("fitbit-7QX9KZ", [implausible])
    assert wait_until(lambda: publisher.rejections == 1)
    assert count(conn, "SELECT count(*) FROM dead_letters WHERE code = 'implausible_value'") == 1
