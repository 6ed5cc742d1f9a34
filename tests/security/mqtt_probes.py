"""Helpers of the MQTT abuse tests: a legitimate gateway that keeps publishing, and a tally.

A refusal is whatever the broker makes visible: a failed CONNACK or SUBACK,
a PUBACK with ``Not authorized`` (MQTT 5) or a dropped connection. With
MQTT 3.1.1 a refused publish is acknowledged like an accepted one, so what
counts in the end is the database: nothing from a denied attempt is stored.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.settings import Settings
from ingest.conformance.exceptions import BrokerUnavailableError
from ingest.conformance.session import Session
from tests.support import GatewayClient, count, now_minus, weight_point

#: MQTT 5 reason "Not authorized".
NOT_AUTHORIZED = 0x87


def session(
    settings: Settings,
    *,
    username: str,
    password: str,
    protocol: MQTTProtocolVersion,
    client_id: str | None = None,
    timeout: float = 5.0,
) -> Session:
    return Session(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        client_id=client_id or username,
        username=username,
        password=password,
        protocol=protocol,
        timeout=timeout,
    )


def login_refused(
    settings: Settings,
    *,
    username: str,
    password: str,
    protocol: MQTTProtocolVersion,
    client_id: str | None = None,
) -> bool:
    """True when the broker refuses the CONNECT (or drops it without a CONNACK)."""
    probe = session(
        settings, username=username, password=password, protocol=protocol, client_id=client_id
    )
    with probe:
        try:
            return probe.connect().is_failure
        except BrokerUnavailableError:
            return True


def publish_refused(reason: ReasonCode | None, protocol: MQTTProtocolVersion) -> bool:
    """Whether the broker showed the refusal; MQTT 3.1.1 cannot show it (see the docstring)."""
    if protocol == MQTTProtocolVersion.MQTTv5:
        return reason is None or reason.value == NOT_AUTHORIZED
    return True  # checked in the database instead


@dataclass
class Tally:
    """Denied attempts: how many were tried and how many the broker refused."""

    tried: int = 0
    refused: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, name: str, refused: bool) -> None:
        self.tried += 1
        if refused:
            self.refused += 1
        else:
            self.failures.append(name)


class LegitFlow:
    """A provisioned gateway publishing one weight reading every ``interval`` s until stopped."""

    def __init__(
        self,
        settings: Settings,
        *,
        gateway_id: str,
        password: str,
        serial: str,
        protocol: MQTTProtocolVersion,
        interval: float = 0.02,
    ) -> None:
        self._client = GatewayClient(settings, gateway_id, password, protocol=protocol)
        self._serial = serial
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.infos: list[Any] = []
        self.connected = False

    def _run(self) -> None:
        start = now_minus(hours=2)
        i = 0
        while not self._stop.wait(self._interval):
            at = start + timedelta(seconds=i)
            self.infos.append(self._client.publish(self._serial, weight_point(70 + i % 20, at)))
            i += 1

    def __enter__(self) -> LegitFlow:
        self._client.__enter__()
        self.connected = self._client.connected
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 30) -> int:
        """Stop publishing; the number of readings the broker acknowledged."""
        self._stop.set()
        self._thread.join(timeout=10)
        for info in self.infos:
            info.wait_for_publish(timeout)
        return sum(1 for info in self.infos if info.is_published())

    def send_raw(self, payload: bytes) -> None:
        """One payload outside the counted flow (a bad one, to draw a rejection)."""
        self._client.publish(self._serial, payload).wait_for_publish(10)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self._client.errors

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._client.__exit__(*exc)


def device_readings(conn: psycopg.Connection[Any], serial: str) -> int:
    return count(
        conn,
        "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device_id WHERE d.serial = %s",
        serial,
    )


def duplicated_readings(conn: psycopg.Connection[Any]) -> int:
    """Rows beyond one per natural key (device, measure, measured time)."""
    return count(
        conn,
        "SELECT count(*) - count(DISTINCT (device_id, measure, measured_at)) FROM readings",
    )


def probe_id() -> str:
    return f"probe-{uuid.uuid4().hex[:8]}"
