"""The reference gateway: an outbox, resends, and the probe to learn what was stored.

This is the behaviour docs/integration.md (section 7) asks of gateways,
written out so that vendors can read it and the hub's fault tests can run it.

The rule for leaving the outbox (:mod:`~ingest.conformance.outbox`):

* a reading leaves when **its own rejection** arrives (except
  ``internal_error``, which a resend may cure);
* a reading leaves when a **probe** (:func:`~ingest.conformance.online.probe_payload`)
  published *after it on the same connection* is answered *on that same
  connection*. The hub handles a gateway's messages in order and commits a
  batch before it answers it, so the probe's answer means every earlier
  reading without a rejection is in the hub's database.

The second condition is what makes a broker crash safe. The broker's PUBACK
only means it has the message in memory: Mosquitto saves to disk every
``autosave_interval`` seconds, and a crash (SIGKILL, power loss) loses what it
accepted since. That also drops every connection, so no probe sent before
the crash can be answered on the connection its readings went out on; the
readings stay in the outbox and are published again after the reconnect.
Resending is always safe (a reading already stored stores nothing new).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import paho.mqtt.client as mqtt

from hub.domain import RejectionCode
from hub.topics import errors_topic, readings_topic, status_topic
from ingest.conformance.exceptions import BrokerUnavailableError
from ingest.conformance.online import PROBE_PREFIX, Target, probe_payload
from ingest.conformance.outbox import Outbox
from ingest.conformance.session import PROTOCOLS, gateway_client

#: A rejection that a resend may cure: the entry stays.
RETRYABLE: Final = frozenset({RejectionCode.INTERNAL_ERROR.value})


@dataclass(frozen=True, slots=True)
class _Answer:
    """One message on the errors topic and the connection it arrived on."""

    connection: int
    serial: str | None
    header_id: str | None
    code: str | None


@dataclass
class GatewayStats:
    """What the gateway did, for reports and tests."""

    produced: int = 0
    published: int = 0
    resent: int = 0
    probes: int = 0
    probes_answered: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


class ReferenceGateway:
    """One gateway's connection and outbox; see the module docstring.

    Not thread-safe: one caller produces, confirms and drains. paho's network
    thread only counts connections and queues what arrives on the errors topic.
    """

    def __init__(self, target: Target, outbox: Outbox) -> None:
        self.target = target
        self.outbox = outbox
        self.stats = GatewayStats()
        self._probe_serial = f"{PROBE_PREFIX}{uuid.uuid4().hex[:16]}"
        self._connection = 0  # how many CONNACKs so far; written by paho's thread
        self._connected = threading.Event()
        self._answers: queue.SimpleQueue[_Answer] = queue.SimpleQueue()
        #: entry id -> the connection it was last published on
        self._sent: dict[int, int] = {}
        #: MQTT message ids of readings published and not yet acknowledged by the broker
        self._unacked: set[int] = set()
        self._acked: set[int] = set()
        self._ack_lock = threading.Lock()
        gateway_id = target.gateway_id
        client = gateway_client(
            gateway_id, gateway_id, target.password, PROTOCOLS[target.mqtt],
            (status_topic(gateway_id), b"offline"),
        )  # fmt: skip
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._client = client

    # -- paho's thread -------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            return
        self._connection += 1
        client.subscribe(errors_topic(self.target.gateway_id), qos=1)
        client.publish(status_topic(self.target.gateway_id), b"online", qos=1, retain=True)
        self._connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self._connected.clear()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *args: Any) -> None:
        with self._ack_lock:
            self._acked.add(mid)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            body: Any = orjson.loads(msg.payload)
        except orjson.JSONDecodeError:
            return
        if type(body) is not dict:
            return
        fields = (body.get("device_serial"), body.get("header_id"), body.get("code"))
        serial, header_id, code = (f if isinstance(f, str) else None for f in fields)
        self._answers.put(_Answer(self._connection, serial, header_id, code))

    # -- the caller's side ---------------------------------------------------

    def start(self) -> None:
        """Connect (paho reconnects by itself from then on) and publish the outbox."""
        try:
            self._client.connect(self.target.host, self.target.port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailableError(f"cannot reach the broker ({exc})") from None
        self._client.loop_start()
        if not self._connected.wait(self.target.timeout):
            raise BrokerUnavailableError("no CONNACK from the broker")
        self._resend(only_unsent=True)

    def produce(self, serial: str, header_id: str, payload: bytes) -> None:
        """Keep a new reading in the outbox, then publish it."""
        entry_id = self.outbox.add(serial, header_id, payload)
        self.stats.produced += 1
        self._publish(entry_id, serial, payload)

    def confirm(self) -> bool:
        """Send a probe and clear what its answer proves; False without an answer."""
        if not self._connected.wait(self.target.timeout):
            return False
        connection = self._connection
        covered = {i for i, c in self._sent.items() if c == connection}
        header_id = f"lastmile-probe-{uuid.uuid4().hex}"
        topic = readings_topic(self.target.gateway_id, self._probe_serial)
        self._client.publish(topic, probe_payload(header_id), qos=1)
        self.stats.probes += 1
        deadline = time.monotonic() + self.target.timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                answer = self._answers.get(timeout=remaining)
            except queue.Empty:
                break
            if answer.header_id == header_id:
                if answer.connection != connection or self._connection != connection:
                    return False  # a reconnect in between: the broker may have lost some
                self.stats.probes_answered += 1
                stored = covered & self._sent.keys()
                self.outbox.remove(stored)
                for entry_id in stored:
                    del self._sent[entry_id]
                return True
            self._take_rejection(answer)
        return False

    def wait_acknowledged(self, timeout: float) -> bool:
        """Wait until the broker acknowledged every reading published so far."""
        deadline = time.monotonic() + timeout
        while True:
            with self._ack_lock:
                self._unacked -= self._acked
                self._acked.clear()
                if not self._unacked:
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def drain(self, timeout: float) -> bool:
        """Resend and probe until the outbox is empty; False if ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        while len(self.outbox) and time.monotonic() < deadline:
            if not self._connected.wait(max(0.0, deadline - time.monotonic())):
                break
            self._resend(only_unsent=True)
            if not self.confirm() and self._connected.is_set():
                self._resend(only_unsent=False)  # no news on a live connection: resend all
        return not len(self.outbox)

    def close(self) -> None:
        """Say offline and disconnect; the outbox keeps what is still pending."""
        if self._connected.is_set():
            info = self._client.publish(
                status_topic(self.target.gateway_id), b"offline", qos=1, retain=True
            )
            info.wait_for_publish(self.target.timeout)
        self._client.disconnect()
        self._client.loop_stop()

    # -- helpers -------------------------------------------------------------

    def _publish(self, entry_id: int, serial: str, payload: bytes) -> None:
        self._sent[entry_id] = self._connection
        info = self._client.publish(readings_topic(self.target.gateway_id, serial), payload, qos=1)
        with self._ack_lock:  # a PUBACK seen already is matched in wait_acknowledged
            self._unacked.add(info.mid)
        self.stats.published += 1

    def _resend(self, *, only_unsent: bool) -> None:
        """Publish again the entries not sent on this connection (or all of them)."""
        for entry in self.outbox.pending():
            if only_unsent and self._sent.get(entry.id) == self._connection:
                continue
            self._publish(entry.id, entry.serial, entry.payload)
            self.stats.resent += 1

    def _take_rejection(self, answer: _Answer) -> None:
        if answer.serial is None or answer.header_id is None or answer.code is None:
            return
        if answer.serial.startswith(PROBE_PREFIX):
            return  # an older probe's answer
        if answer.code in RETRYABLE:  # not stored: no probe may clear it; resend it
            for entry_id in self.outbox.ids_of(answer.serial, answer.header_id):
                self._sent.pop(entry_id, None)
            return
        if self.outbox.remove_reading(answer.serial, answer.header_id):
            self.stats.rejected[answer.code] = self.stats.rejected.get(answer.code, 0) + 1
