"""Dead letters: what was not stored, kept with its code for the gateway and for replay."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import orjson

from hub.db import Conn
from hub.domain import Rejection, RejectionCode
from hub.sql import queries
from hub.topics import parse_dispenses_topic, parse_readings_topic
from ingest.models import DeadLetter, Received

log = logging.getLogger(__name__)


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
        feed_id=parse_dispenses_topic(message.topic),
    )
    record_dead_letter(conn, letter)


def _items(payload: bytes) -> list[object] | None:
    """The data points of an array payload, or None when it is not one."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, list) else None


def record_dead_letter(conn: Conn, letter: DeadLetter) -> bool:
    """Insert one dead letter; False if a redelivery already recorded it."""
    return bool(record_dead_letters(conn, [letter]))


def record_dead_letters(conn: Conn, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """Insert dead letters in one pipelined batch; return those recorded.

    A rejection of a redelivered message (MQTT DUP flag) that was recorded
    already is left out, so a gateway hears about each rejection once. For a
    rejected data point of an array, the point's own JSON is kept; the array
    is parsed once however many of its points were rejected.
    """
    shas: dict[int, bytes] = {}
    arrays: dict[int, list[object] | None] = {}
    rows: list[dict[str, object]] = []
    recorded: list[DeadLetter] = []
    for letter in letters:
        msg, rejection = letter.message, letter.rejection
        key = id(msg)
        if key not in shas:
            shas[key] = hashlib.sha256(msg.payload).digest()
        sha = shas[key]
        if msg.dup and _already_recorded(conn, letter, sha):
            continue
        payload = msg.payload
        if rejection.index is not None:
            if key not in arrays:
                arrays[key] = _items(msg.payload)
            items = arrays[key]
            if items is not None and 0 <= rejection.index < len(items):
                payload = orjson.dumps(items[rejection.index])
        rows.append(
            {
                "received_at": msg.received_at,
                "topic": msg.topic,
                "gateway_id": letter.gateway_id,
                "device_serial": letter.device_serial,
                "feed_id": letter.feed_id,
                "header_id": _storable(rejection.header_id),
                "item_index": rejection.index,
                "code": rejection.code.value,
                "detail": _storable(rejection.detail),
                "payload": payload,
                "payload_sha256": sha,
            }
        )
        recorded.append(letter)
        log.info(
            "dispense rejected" if letter.feed_id else "reading rejected",
            extra={
                "code": rejection.code.value,
                "gateway_id": letter.gateway_id,
                "device_serial": letter.device_serial,
                "feed_id": letter.feed_id,
                "header_id": rejection.header_id,
            },
        )
    if rows:
        with conn.cursor() as cur:
            cur.executemany(queries["insert_dead_letter"], rows)
    return recorded


def _storable(text: str | None) -> str | None:
    """``text`` without NUL characters, which PostgreSQL text cannot hold.

    >>> _storable("omh:x" + chr(0) + ":1.0") == "omh:x" + chr(0xFFFD) + ":1.0"
    True
    """
    return text.replace("\x00", "\ufffd") if text else text


def _already_recorded(conn: Conn, letter: DeadLetter, sha: bytes) -> bool:
    row = conn.execute(
        queries["dead_letter_exists"],
        {
            "payload_sha256": sha,
            "topic": letter.message.topic,
            "item_index": letter.rejection.index,
            "since": letter.message.received_at - _REDELIVERY_WINDOW,
        },
    ).fetchone()
    return row is not None and bool(row[0])
