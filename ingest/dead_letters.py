"""Dead letters: what was not stored, kept with its code for the gateway and for replay."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

import orjson
import psycopg

from hub.domain import Rejection, RejectionCode
from hub.sql import queries
from ingest.models import DeadLetter, Received
from ingest.topics import parse_readings_topic

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]

#: How far back a redelivered message's rejection is looked for.
_REDELIVERY_WINDOW = timedelta(days=2)


def quarantine(conn: Conn, *, message: Received, detail: str) -> None:
    """Keep a message the hub failed to process, so it is never lost.

    Used when a batch fails for a reason other than the database being away:
    the message is kept whole in the dead-letter table for replay, and the
    gateway is told with ``internal_error``.
    """
    topic = parse_readings_topic(message.topic)
    rejection = Rejection(RejectionCode.INTERNAL_ERROR, detail)
    letter = DeadLetter(
        message,
        topic.gateway_id if topic else None,
        topic.device_serial if topic else None,
        rejection,
    )
    record_dead_letter(conn, letter)


def _item_payload(payload: bytes, index: int | None) -> bytes:
    """The bytes of the one data point a rejection is about, else the message."""
    if index is None:
        return payload
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if isinstance(document, list) and 0 <= index < len(document):
        return orjson.dumps(document[index])
    return payload


def record_dead_letter(conn: Conn, letter: DeadLetter) -> bool:
    """Insert one dead letter; False if a redelivery already recorded it."""
    msg, rejection = letter.message, letter.rejection
    sha = hashlib.sha256(msg.payload).digest()
    if msg.dup:
        exists = conn.execute(
            queries["dead_letter_exists"],
            {
                "payload_sha256": sha,
                "topic": msg.topic,
                "item_index": rejection.index,
                "since": msg.received_at - _REDELIVERY_WINDOW,
            },
        ).fetchone()
        if exists is not None and exists[0]:
            return False
    conn.execute(
        queries["insert_dead_letter"],
        {
            "received_at": msg.received_at,
            "topic": msg.topic,
            "gateway_id": letter.gateway_id,
            "device_serial": letter.device_serial,
            "header_id": rejection.header_id,
            "item_index": rejection.index,
            "code": rejection.code.value,
            "detail": rejection.detail,
            "payload": _item_payload(msg.payload, rejection.index),
            "payload_sha256": sha,
        },
    )
    log.info(
        "reading rejected",
        extra={
            "code": rejection.code.value,
            "gateway_id": letter.gateway_id,
            "device_serial": letter.device_serial,
            "header_id": rejection.header_id,
        },
    )
    return True
