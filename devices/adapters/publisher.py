"""Deliver a vendor's data points over MQTT as its gateway, and hear its rejections.

Points go to the contract's readings topic of their device, QoS 1, as JSON
arrays; :meth:`VendorPublisher.publish` returns once the broker acknowledged
every message (PUBACK), and raises otherwise, so a caller advances its pull
cursor only for data the broker holds. Rejections on the gateway's
``errors`` topic are logged (codes and ids only, never values).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Self

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.adapters.base import DataPoint
from devices.adapters.exceptions import VendorPublishError
from hub.settings import Settings
from hub.topics import errors_topic, readings_topic

log = logging.getLogger(__name__)

#: Points per MQTT message (the contract allows up to 500).
CHUNK = 100


class VendorPublisher:
    """A connected MQTT client of one vendor gateway; use as a context manager."""

    def __init__(
        self, settings: Settings, *, gateway_id: str, password: str, timeout_s: float = 20.0
    ) -> None:
        self.gateway_id = gateway_id
        self.timeout_s = timeout_s
        self.rejections = 0
        self._settings = settings
        self._connected = threading.Event()
        self._refused: Any = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=gateway_id, protocol=mqtt.MQTTv311
        )
        client.username_pw_set(gateway_id, password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.max_inflight_messages_set(CHUNK)
        self._client = client

    def __enter__(self) -> Self:
        try:
            self._client.connect(self._settings.mqtt_host, self._settings.mqtt_port, keepalive=30)
        except OSError as exc:
            raise VendorPublishError(f"cannot connect to the broker: {exc}") from exc
        self._client.loop_start()
        deadline = time.monotonic() + self.timeout_s
        while not self._connected.wait(0.05):
            if self._refused is not None or time.monotonic() > deadline:
                self.__exit__()
                raise VendorPublishError(f"broker refused {self.gateway_id}: {self._refused}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = reason
            return
        client.subscribe(errors_topic(self.gateway_id), qos=1)
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            rejection = orjson.loads(msg.payload)
            fields = {key: rejection.get(key) for key in ("header_id", "device_serial", "code")}
        except (orjson.JSONDecodeError, AttributeError):
            fields = {"code": "unreadable"}
        self.rejections += 1
        log.warning("vendor reading rejected", extra={"gateway_id": self.gateway_id, **fields})

    def publish(self, serial: str, points: Sequence[DataPoint]) -> None:
        """Publish ``points`` for ``serial`` and wait until the broker acknowledged them all."""
        topic = readings_topic(self.gateway_id, serial)
        infos = [
            self._client.publish(topic, orjson.dumps(list(points[i : i + CHUNK])), qos=1)
            for i in range(0, len(points), CHUNK)
        ]
        deadline = time.monotonic() + self.timeout_s
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                raise VendorPublishError(f"publish failed: {mqtt.error_string(info.rc)}")
            try:
                info.wait_for_publish(max(0.01, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                raise VendorPublishError(f"publish failed: {exc}") from exc
            if not info.is_published():
                raise VendorPublishError("the broker did not acknowledge a publish in time")
