"""A small synchronous MQTT client for the kit: every call waits for the broker's answer.

paho's network thread only records what arrives (CONNACK, PUBACK, SUBACK,
messages); the caller waits for the answer it needs, with a timeout. With
MQTT 5 the broker's reason codes are what the kit checks (a refused publish
is a PUBACK with ``Not authorized``); with MQTT 3.1.1 a refused publish looks
like an accepted one.

The password is handed to paho and kept nowhere else.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Final, Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from ingest.conformance.exceptions import BrokerUnavailableError

PROTOCOLS: Final = {"3.1.1": MQTTProtocolVersion.MQTTv311, "5": MQTTProtocolVersion.MQTTv5}

#: MQTT 5 DISCONNECT reason "Disconnect with Will Message" (0x04).
_WITH_WILL: Final = 0x04


def describe(reason: ReasonCode | None) -> str:
    """``'0x87 Not authorized'``; ``'no answer'`` for None."""
    if reason is None:
        return "no answer"
    return f"0x{reason.value:02x} {reason.getName()}"


def gateway_client(
    client_id: str,
    username: str,
    password: str,
    protocol: MQTTProtocolVersion,
    will: tuple[str, bytes] | None,
) -> mqtt.Client:
    """A paho client as a gateway: clean session, a retained QoS 1 will, 100 in flight."""
    kwargs: dict[str, Any] = {}
    if protocol == MQTTProtocolVersion.MQTTv311:
        kwargs["clean_session"] = True
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, **kwargs
    )
    client.username_pw_set(username, password)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.max_inflight_messages_set(100)
    return client


class Session:
    """One MQTT connection as a gateway; use as a context manager after :meth:`connect`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        username: str,
        password: str,
        protocol: MQTTProtocolVersion,
        will: tuple[str, bytes] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._protocol = protocol
        self._timeout = timeout
        self._lock = threading.Condition()
        self._connack: ReasonCode | None = None
        self._acks: dict[int, ReasonCode] = {}
        self._subacks: dict[int, list[ReasonCode]] = {}
        self.messages: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        client = gateway_client(client_id, username, password, protocol, will)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        self._running = False

    @property
    def v5(self) -> bool:
        return self._protocol == MQTTProtocolVersion.MQTTv5

    # -- paho's thread: record and notify ----------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._lock:
            self._connack = reason
            self._lock.notify_all()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: Any, props: Any
    ) -> None:
        with self._lock:
            self._acks[mid] = reason
            self._lock.notify_all()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, props: Any
    ) -> None:
        with self._lock:
            self._subacks[mid] = list(reasons)
            self._lock.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.messages.put((msg.topic, bytes(msg.payload)))

    # -- caller's side: ask and wait -----------------------------------------

    def _wait(self, found: Any) -> Any:
        deadline = time.monotonic() + self._timeout
        with self._lock:
            while (value := found()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)
            return value

    def connect(self) -> ReasonCode:
        """Connect and wait for the CONNACK; a refusal is returned, not raised.

        Raises :class:`BrokerUnavailableError` when the broker cannot be
        reached or does not answer.
        """
        try:
            if self.v5:
                self._client.connect(self._host, self._port, keepalive=30, clean_start=True)
            else:
                self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailableError(
                f"cannot reach the broker at {self._host}:{self._port} ({exc})"
            ) from None
        self._client.loop_start()
        self._running = True
        reason: ReasonCode | None = self._wait(lambda: self._connack)
        if reason is None or reason.is_failure:
            self.close()  # paho would keep reconnecting in the background
        if reason is None:
            raise BrokerUnavailableError(f"no CONNACK from {self._host}:{self._port}")
        return reason

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> ReasonCode | None:
        """Publish at QoS 1 and wait for the PUBACK; its reason, None if none came."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        reason: ReasonCode | None = self._wait(lambda: self._acks.pop(info.mid, None))
        return reason

    def subscribe(self, topic_filter: str) -> ReasonCode | None:
        """Subscribe at QoS 1 and wait for the SUBACK; its reason, None if none came."""
        result, mid = self._client.subscribe(topic_filter, qos=1)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            return None
        reasons: list[ReasonCode] | None = self._wait(lambda: self._subacks.pop(mid, None))
        return reasons[0] if reasons else None

    def close(self, *, with_will: bool = False) -> None:
        """Disconnect; with MQTT 5 and ``with_will`` the broker publishes the Last Will."""
        if not self._running:
            return
        self._running = False
        if with_will and self.v5:
            self._client.disconnect(
                reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=_WITH_WILL)
            )
        else:
            self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
