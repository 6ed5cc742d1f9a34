"""One simulated MQTT sender: a paho client that publishes at QoS 1 and counts what comes back.

A :class:`CountingLink` connects (paho-mqtt 2.x, ``CallbackAPIVersion.VERSION2``)
with the credentials the hub provisioned, subscribes to its ``errors`` topic at
QoS 1 on connect, and tells its subclass, under the lock it shares with the
publishing thread, how many items each message the broker acknowledged
carried and the code of each rejection the hub sent back. A simulated gateway
(:mod:`simulators.publisher`) and the simulated pharmacy feed are both one.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, TypedDict

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulators.exceptions import ConnectRefusedError, MqttError

log = logging.getLogger(__name__)

#: Fields of a rejection that identify what was rejected (never a value).
_REFERENCES = ("device_serial", "header_id", "dispense_id", "index")


class LinkArgs(TypedDict):
    """Who a link is and where it hears its rejections (the keywords of :class:`CountingLink`)."""

    client_id: str
    username: str
    password: str
    errors_topic: str
    protocol: int


class CountingLink:
    """One MQTT connection; subclasses count in :meth:`acked` and :meth:`rejected`."""

    def __init__(
        self,
        *,
        client_id: str,
        username: str,
        password: str,
        errors_topic: str,
        protocol: int,
        lock: threading.Lock,
    ) -> None:
        self.client_id = client_id
        self.errors_topic = errors_topic
        self.lock = lock
        self.connected = threading.Event()
        self.refused: str | None = None
        # mid -> items the message carries; acks that beat publish() back are parked.
        self._pending: dict[int, int] = {}
        self._early: set[int] = set()
        v5 = protocol == mqtt.MQTTv5
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    # -- for subclasses ----------------------------------------------------------------------

    def on_connected(self) -> None:
        """Called in paho's thread once the connection is accepted."""

    def acked(self, items: int) -> None:
        """The broker acknowledged a message of ``items`` items (the lock is held)."""

    def rejected(self, code: str) -> None:
        """The hub rejected something with ``code`` (the lock is held)."""

    # -- the connection ----------------------------------------------------------------------

    def start(self, host: str, port: int, keepalive_s: int) -> None:
        self.client.connect_async(host, port, keepalive=keepalive_s)
        self.client.loop_start()

    def wait_connected(self, deadline: float) -> None:
        """Until connected; a refusal or the ``time.monotonic()`` deadline raises."""
        while not self.connected.wait(0.05):
            if self.refused is not None:
                msg = f"{self.client_id} refused: {self.refused}"
                raise ConnectRefusedError(msg, code=-1)
            if time.monotonic() > deadline:
                msg = f"{self.client_id} did not connect in time"
                raise MqttError(msg)

    def publish(self, topic: str, payload: bytes, *, items: int, retain: bool = False) -> None:
        """Publish at QoS 1; ``items`` (0 for a status message) count once acknowledged."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self.lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                if items:
                    self.acked(items)
            else:
                self._pending[info.mid] = items

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho's callbacks (its network thread) -----------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            log.error("connect refused", extra={"client_id": self.client_id, "reason": str(reason)})
            return
        client.subscribe(self.errors_topic, qos=1)
        self.on_connected()
        self.connected.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        _reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        with self.lock:
            items = self._pending.pop(mid, None)
            if items is None:
                self._early.add(mid)
            elif items:
                self.acked(items)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        error: Any
        try:
            error = orjson.loads(msg.payload)
            code = str(error.get("code", "unknown")) if isinstance(error, dict) else "unparseable"
        except orjson.JSONDecodeError:
            error, code = {}, "unparseable"
        with self.lock:
            self.rejected(code)
        refs = {k: error.get(k) for k in _REFERENCES} if isinstance(error, dict) else {}
        log.info("rejection", extra={"client_id": self.client_id, "code": code, **refs})
