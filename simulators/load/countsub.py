"""A bare paho subscriber that only counts messages, for the ingest benchmark.

It measures what the broker can deliver to one QoS 1 subscriber: the rate from
the first message to the last. With Mosquitto, a QoS 1 subscriber has at most
``max_inflight_messages`` unacknowledged messages, and the broker drops what
it cannot queue beyond ``max_queued_messages`` (default 1000), so a benchmark
that expects every message must raise that limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulators.exceptions import ConnectRefusedError


@dataclass(frozen=True, slots=True)
class SubscribeStats:
    received: int
    expected: int
    duplicates: int
    first_at: float | None
    last_at: float | None
    timed_out: bool

    @property
    def elapsed_s(self) -> float:
        """From the first message to the last one (``time.monotonic()``)."""
        if self.first_at is None or self.last_at is None:
            return 0.0
        return self.last_at - self.first_at

    @property
    def rate(self) -> float:
        return (self.received - 1) / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Settable(Protocol):
    def set(self) -> None: ...


def count_subscriber(
    host: str,
    port: int,
    *,
    username: str | None,
    password: str | None,
    topic: str,
    expected: int,
    qos: int = 1,
    protocol: int = mqtt.MQTTv311,
    timeout_s: float = 120.0,
    client_id: str | None = None,
    clean_session: bool = True,
    ready: _Settable | None = None,
) -> SubscribeStats:
    """Subscribe to ``topic`` and count messages until ``expected`` arrived or time runs out.

    ``ready`` is set once the subscription is acknowledged: start publishing
    then. With ``clean_session=False`` the broker keeps the session (for MQTT
    5, a session expiry of an hour); give a fixed ``client_id`` to resume it.
    The clock for ``timeout_s`` restarts with every message, so it bounds silence.
    """
    cid = client_id or f"lastmile-count-{uuid.uuid4().hex[:12]}"
    v5 = protocol == mqtt.MQTTv5
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else clean_session,
    )
    if username is not None:
        client.username_pw_set(username, password)
    tally = _Tally(expected=expected)
    failure: list[str] = []

    def on_connect(
        c: mqtt.Client, _u: object, _f: mqtt.ConnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if rc.is_failure:
            failure.append(str(rc))
            tally.done.set()
            return
        c.subscribe(topic, qos=qos)

    def on_subscribe(
        _c: mqtt.Client, _u: object, _m: int, rcs: list[ReasonCode], _p: Properties | None
    ) -> None:
        if any(rc.is_failure for rc in rcs):
            failure.append(f"SUBSCRIBE refused: {rcs}")
            tally.done.set()
        elif ready is not None:
            ready.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = tally.on_message
    if v5:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0 if clean_session else 3600
        client.connect(host, port, keepalive=60, clean_start=clean_session, properties=props)
    else:
        client.connect(host, port, keepalive=60)
    client.loop_start()
    timed_out = False
    try:
        while not tally.done.wait(0.2):
            if time.monotonic() - tally.last_activity > timeout_s:
                timed_out = True
                break
    finally:
        client.disconnect()
        client.loop_stop()
    if failure:
        raise ConnectRefusedError(f"subscriber refused: {failure[0]}", code=-1)
    return SubscribeStats(
        received=tally.received,
        expected=expected,
        duplicates=tally.duplicates,
        first_at=tally.first_at,
        last_at=tally.last_at,
        timed_out=timed_out,
    )


class _Tally:
    """Counts messages in paho's network thread; read once the loop has stopped."""

    def __init__(self, *, expected: int) -> None:
        self.expected = expected
        self.received = 0
        self.duplicates = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.last_activity = time.monotonic()
        self.done = threading.Event()

    def on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if self.first_at is None:
            self.first_at = now
        self.last_at = self.last_activity = now
        self.received += 1
        self.duplicates += int(msg.dup)
        if self.received >= self.expected:
            self.done.set()
