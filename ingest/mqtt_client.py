"""The ingest worker's MQTT client: nothing in paho's thread but handing messages on.

:class:`IngestClient` owns the paho client: its persistent session
(MQTT 3.1.1, ``clean_session=False``; paho's receive path is cheaper for
3.1.1 than for 5, measured by ``lastmile bench ingest``), the subscriptions
(:func:`~ingest.session.topic_filters`: plain for the hub's one worker,
shared for one of several), and manual acknowledgements: a message's PUBACK
goes out only when the worker says its batch committed (:meth:`ack`).
Each message is stamped with the time it arrived and the connection it
came on, and put on the worker's inbox.

A worker of several that stops leaves its share group first
(:meth:`unsubscribe`): the broker then hands the group's messages to the
other members only, and what it had already handed this session still
arrives, to be stored and acknowledged before the worker disconnects.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.settings import Settings
from ingest import metrics
from ingest.models import Received
from ingest.session import ingest_client_id, persist_new_session, topic_filters

log = logging.getLogger(__name__)


class IngestClient:
    """The worker's MQTT session; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        inbox: queue.SimpleQueue[Received],
        *,
        client_id: str | None = None,
    ) -> None:
        self._settings = settings
        self._inbox = inbox
        self.client_id = client_id or ingest_client_id(settings)
        self._filters = topic_filters(settings)
        self._generation = 0
        self._connected = threading.Event()
        self._session_present = False
        #: Subscriptions sent on this connection and not yet granted (SUBACK).
        self._unacked_subscriptions: set[int] = set()
        self._leaving = False
        self._unsubscribed = threading.Event()
        #: Monotonic time of the last message received.
        self.last_message_at = 0.0
        self._client = self._make_client()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the broker accepted the session and granted every subscription."""
        return self._connected.wait(timeout)

    def start(self) -> None:
        s = self._settings
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly and stop paho's thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def unsubscribe(self, timeout: float) -> bool:
        """Leave the share group: no more messages for this session from the broker,
        beyond those it had queued already. Whether the broker confirmed it."""
        self._leaving = True
        if self._connected.is_set():
            self._send_unsubscribe(self._client)
        return self._unsubscribed.wait(timeout)

    def ack(self, batch: Sequence[Received]) -> None:
        """Acknowledge a committed batch (its messages of this connection)."""
        generation = self._generation
        for message in batch:
            # A message received on an earlier connection is redelivered by the
            # broker on this one; acking its old packet id would be wrong.
            if message.generation == generation:
                self._client.ack(message.mid, 1)

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=1)

    # -- paho's thread: nothing but hand-off ----------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        client.username_pw_set(
            self._settings.mqtt_hub_username, self._settings.mqtt_hub_password.get_secret_value()
        )
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Rejections we publish are QoS 1; let paho keep plenty in flight.
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _send_unsubscribe(self, client: mqtt.Client) -> None:
        client.unsubscribe([topic for topic, _ in self._filters])

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: Any,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            log.error("mqtt connect refused", extra={"reason": str(reason)})
            return
        self._generation += 1
        self._session_present = bool(flags.session_present)
        log.info(
            "mqtt connected",
            extra={
                "session_present": flags.session_present,
                "generation": self._generation,
                "client_id": self.client_id,
            },
        )
        lost = self._generation > 1 and not flags.session_present
        metrics.connected(session_present=self._session_present, lost=lost)
        if lost:
            # What the broker accepted while this session was gone went nowhere.
            log.error("mqtt session lost by the broker", extra={"generation": self._generation})
        if self._leaving:
            # Reconnected while leaving the group: collect what is queued, no more.
            self._send_unsubscribe(client)
            self._connected.set()
            return
        sent = (client.subscribe(topic, qos=qos) for topic, qos in self._filters)
        self._unacked_subscriptions = {mid for _, mid in sent if mid is not None}

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, properties: Any
    ) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("mqtt subscription refused", extra={"reasons": [str(r) for r in reasons]})
            return
        self._unacked_subscriptions.discard(mid)
        if not self._unacked_subscriptions:
            # Only now does the broker queue for this session what arrives
            # while the worker is away.
            self._connected.set()
            metrics.subscribed()
            if not self._session_present:
                # A new session is only in the broker's memory until it saves.
                threading.Thread(
                    target=persist_new_session, args=(self._settings,), daemon=True
                ).start()

    def _on_unsubscribe(
        self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, properties: Any
    ) -> None:
        log.info("mqtt unsubscribed: left the share group", extra={"client_id": self.client_id})
        self._unsubscribed.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._connected.clear()
        metrics.disconnected()
        level = logging.WARNING if getattr(reason, "is_failure", True) else logging.INFO
        log.log(level, "mqtt disconnected", extra={"reason": str(reason)})

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received_at = datetime.now(UTC)
        self._inbox.put(
            Received(
                topic=msg.topic,
                payload=bytes(msg.payload),
                mid=msg.mid,
                dup=bool(msg.dup),
                received_at=received_at,
                generation=self._generation,
                retained=bool(msg.retain),
            )
        )
        self.last_message_at = time.monotonic()
