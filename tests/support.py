"""Helpers for tests that drive the hub like a vendor's gateway would."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import orjson
import paho.mqtt.client as mqtt
import psycopg
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.settings import Settings
from hub.topics import dispenses_topic, errors_topic, feed_errors_topic, readings_topic


@dataclass(frozen=True)
class ProvisionedGateway:
    gateway_id: str
    password: str
    patient_id: str
    serials: dict[str, str]  # kind -> serial


def provision(
    api: TestClient, *, kinds: Sequence[str] = ("scale", "bp_cuff", "pulse_oximeter")
) -> ProvisionedGateway:
    patient = api.post("/api/v1/patients", json={"pathway": "CHF"})
    assert patient.status_code == 201, patient.text
    gateway = api.post("/api/v1/gateways", json={"label": "test"})
    assert gateway.status_code == 201, gateway.text
    gw = gateway.json()
    serials: dict[str, str] = {}
    for kind in kinds:
        serial = f"{kind[:2].upper()}-{uuid.uuid4().hex[:10]}"
        device = api.post(
            "/api/v1/devices",
            json={
                "serial": serial,
                "kind": kind,
                "gateway_id": gw["id"],
                "patient_id": patient.json()["id"],
            },
        )
        assert device.status_code == 201, device.text
        serials[kind] = serial
    return ProvisionedGateway(gw["id"], gw["mqtt_password"], patient.json()["id"], serials)


def weight_point(
    kg: float, at: datetime, *, header_id: str | None = None, unit: str = "kg"
) -> dict[str, Any]:
    return {
        "header": {
            "id": header_id or str(uuid.uuid4()),
            "creation_date_time": at.isoformat(),
            "schema_id": {"namespace": "omh", "name": "body-weight", "version": "1.0"},
            "acquisition_provenance": {"source_name": "test-scale", "modality": "sensed"},
        },
        "body": {
            "body_weight": {"value": kg, "unit": unit},
            "effective_time_frame": {"date_time": at.isoformat()},
        },
    }


def wrap_body(
    body: dict[str, Any], name: str, version: str, *, header_id: str | None = None
) -> dict[str, Any]:
    return {
        "header": {
            "id": header_id or str(uuid.uuid4()),
            "creation_date_time": datetime.now(UTC).isoformat(),
            "schema_id": {"namespace": "omh", "name": name, "version": version},
            "acquisition_provenance": {"source_name": "conformance", "modality": "sensed"},
        },
        "body": body,
    }


@dataclass
class GatewayClient:
    """A paho client acting as one gateway: publishes QoS 1, collects its errors."""

    settings: Settings
    gateway_id: str
    password: str
    protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv311
    client_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    _client: mqtt.Client | None = None
    _connected: threading.Event = field(default_factory=threading.Event)
    connect_reason: Any = None

    def __enter__(self) -> Self:
        kwargs: dict[str, Any] = {}
        if self.protocol == MQTTProtocolVersion.MQTTv311:
            kwargs["clean_session"] = True
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id or self.gateway_id,
            protocol=self.protocol,
            **kwargs,
        )
        if self.gateway_id:  # an empty id means an anonymous client
            client.username_pw_set(self.gateway_id, self.password)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.max_inflight_messages_set(500)
        client.connect(self.settings.mqtt_host, self.settings.mqtt_port)
        client.loop_start()
        self._client = client
        self._connected.wait(5)
        return self

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connect_reason = reason
        if not reason.is_failure:
            client.subscribe(errors_topic(self.gateway_id), qos=1)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.errors.append(orjson.loads(msg.payload))

    @property
    def connected(self) -> bool:
        return self.connect_reason is not None and not self.connect_reason.is_failure

    def publish(
        self, serial: str, payload: Any, *, topic: str | None = None
    ) -> mqtt.MQTTMessageInfo:
        assert self._client is not None
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        return self._client.publish(topic or readings_topic(self.gateway_id, serial), data, qos=1)

    def publish_all(self, serial: str, payloads: Sequence[Any], *, timeout: float = 60) -> None:
        infos = [self.publish(serial, p) for p in payloads]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "broker did not acknowledge a publish"

    def __exit__(self, *exc: object) -> None:
        assert self._client is not None
        self._client.disconnect()
        self._client.loop_stop()


class FeedClient(GatewayClient):
    """A paho client acting as one pharmacy feed: sends dispenses, collects its errors."""

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connect_reason = reason
        if not reason.is_failure:
            client.subscribe(feed_errors_topic(self.gateway_id), qos=1)
        self._connected.set()

    def send(self, payload: Any, *, timeout: float = 20) -> None:
        """Publish on the feed's dispenses topic and wait for the broker's PUBACK."""
        info = self.publish("", payload, topic=dispenses_topic(self.gateway_id))
        info.wait_for_publish(timeout)
        assert info.is_published(), "broker did not acknowledge a publish"


def provision_feed(api: TestClient, label: str = "test pharmacy") -> tuple[str, str]:
    """A pharmacy feed provisioned over the API: (feed id, password)."""
    made = api.post("/api/v1/pharmacy/feeds", json={"label": label})
    assert made.status_code == 201, made.text
    body = made.json()
    return body["mqtt_username"], body["mqtt_password"]


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 20, interval: float = 0.1
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def count(conn: psycopg.Connection[Any], sql: str, *params: object) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def now_minus(**kwargs: float) -> datetime:
    return (datetime.now(UTC) - timedelta(**kwargs)).replace(microsecond=0)


def bp_point(systolic: float, diastolic: float, at: datetime) -> dict[str, Any]:
    return {
        "header": {
            "id": str(uuid.uuid4()),
            "creation_date_time": at.isoformat(),
            "schema_id": {"namespace": "omh", "name": "blood-pressure", "version": "1.0"},
            "acquisition_provenance": {"source_name": "test-cuff", "modality": "sensed"},
        },
        "body": {
            "systolic_blood_pressure": {"value": systolic, "unit": "mmHg"},
            "diastolic_blood_pressure": {"value": diastolic, "unit": "mmHg"},
            "effective_time_frame": {"date_time": at.isoformat()},
        },
    }
