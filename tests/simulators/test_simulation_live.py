"""The simulator and the raw publisher against the real API, broker and database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import pytest

from devices import service as devices
from devices.credentials import provision_gateway_credentials
from hub import patients
from hub.domain import DeviceKind
from hub.settings import Settings
from hub.topics import READINGS_FILTER, readings_topic
from simulators.cohort import build_cohort
from simulators.load.countsub import count_subscriber
from simulators.load.rawmqtt import publish_preencoded
from simulators.provision import provision_cohort
from simulators.publisher import run_simulation
from tests.conftest import RunningWorker
from tests.support import count, wait_until, weight_point

pytestmark = pytest.mark.services


def test_simulated_cohort_is_provisioned_published_and_stored(
    settings: Settings, live_api: str, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    cohort = build_cohort(4, seed=7, end=datetime.now(UTC), days=5, malformed_rate=0.05)
    provisioned = provision_cohort(
        cohort, api_url=live_api, admin_token=settings.admin_token.get_secret_value()
    )
    assert count(conn, "SELECT count(*) FROM patients") == 4
    assert count(conn, "SELECT count(*) FROM gateways") == len(provisioned.gateways)
    stats = run_simulation(
        cohort, provisioned, host=settings.mqtt_host, port=settings.mqtt_port, speed=0
    )
    assert stats.acked == stats.published > 0
    assert stats.malformed > 0, "the seed should produce some malformed messages"
    assert wait_until(
        lambda: count(conn, "SELECT count(*) FROM readings") == stats.valid_points, timeout=30
    ), (count(conn, "SELECT count(*) FROM readings"), stats)
    # Every malformed message was answered with exactly one coded rejection.
    assert stats.errors_received == stats.malformed
    assert count(conn, "SELECT count(*) FROM dead_letters") == stats.malformed


def test_raw_publisher_and_bare_subscriber_on_the_real_broker(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    gateway_id = devices.new_gateway_id()
    devices.create_gateway(conn, gateway_id=gateway_id, label="raw")
    provision_gateway_credentials(settings, gateway_id=gateway_id, password="raw-publisher-pw")
    devices.create_device(
        conn, serial="RAW-1", kind=DeviceKind.SCALE, gateway_id=gateway_id, patient_id=patient.id
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    messages = [
        (readings_topic(gateway_id, "RAW-1"), orjson.dumps(weight_point(70.0, start)))
        for _ in range(5_000)
    ]
    ready = threading.Event()
    received: list[Any] = []
    subscriber = threading.Thread(
        target=lambda: received.append(
            count_subscriber(
                settings.mqtt_host,
                settings.mqtt_port,
                username=settings.mqtt_hub_username,
                password=settings.mqtt_hub_password.get_secret_value(),
                topic=READINGS_FILTER,
                expected=len(messages),
                timeout_s=20,
                ready=ready,
            )
        )
    )
    subscriber.start()
    assert ready.wait(10)
    published = publish_preencoded(
        settings.mqtt_host,
        settings.mqtt_port,
        client_id=gateway_id,
        username=gateway_id,
        password="raw-publisher-pw",
        messages=messages,
        timeout_s=60,
    )
    subscriber.join(timeout=60)
    assert published.acked == len(messages)
    assert received[0].received == len(messages), received[0]
