"""Committed rejections, told to their gateways and pharmacy feeds on their errors topics.

The ingest worker calls :meth:`RejectionSender.send` between transactions:
it marks the rejections whose QoS 1 publish the broker confirmed, and
publishes the next ones not yet sent (a few at a time). Rejections exist
after a batch that made some, and possibly from before a restart: it looks
once at start-up, then only when a batch rejected something (:meth:`due`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
import psycopg

from flows.batches import BatchStore
from hub.sql import queries
from hub.topics import errors_topic, feed_errors_topic
from ingest.mqtt_client import IngestClient

#: Rejections read and published per pass of the worker loop.
_REJECTIONS_PER_PASS = 1000


class RejectionSender:
    """Publishes the committed rejections; see the module docstring."""

    def __init__(self, store: BatchStore, client: IngestClient) -> None:
        self._store = store
        self._client = client
        self._unconfirmed: list[tuple[mqtt.MQTTMessageInfo, int]] = []
        self._due = True

    def due(self) -> None:
        """A batch committed rejections: look for them at the next :meth:`send`."""
        self._due = True

    def send(self) -> None:
        """Send committed rejections on the errors topics; mark them sent."""
        if not (self._due or self._unconfirmed):
            return
        try:
            conn = self._store.connection()
            with conn.transaction():
                confirmed = [dl_id for info, dl_id in self._unconfirmed if info.is_published()]
                self._unconfirmed = [(i, d) for i, d in self._unconfirmed if not i.is_published()]
                if confirmed:
                    conn.execute(
                        queries["mark_rejections_notified"],
                        {"ids": confirmed, "notified_at": datetime.now(UTC)},
                    )
                waiting = {dl_id for _, dl_id in self._unconfirmed}
                rows = conn.execute(
                    queries["pending_rejections"], {"limit": _REJECTIONS_PER_PASS}
                ).fetchall()
            self._due = len(rows) >= _REJECTIONS_PER_PASS
        except psycopg.OperationalError:
            self._store.drop_connection()
            return
        for dl_id, gateway_id, serial, feed_id, header_id, index, code, detail in rows:
            if dl_id in waiting:
                continue
            if feed_id is not None:
                topic = feed_errors_topic(str(feed_id))
                body = {"dispense_id": header_id, "index": index, "code": code, "detail": detail}
            else:
                topic = errors_topic(str(gateway_id))
                body = {
                    "header_id": header_id,
                    "device_serial": serial,
                    "code": code,
                    "detail": detail,
                }
            info = self._client.publish(topic, orjson.dumps(body))
            self._unconfirmed.append((info, int(dl_id)))
