"""Turn a batch of received MQTT messages into stored readings and dead letters.

One call, one transaction that the caller owns: valid points go through a
binary COPY into a staging table and then ``INSERT … ON CONFLICT DO NOTHING``
into the hypertable (so redelivered and resent readings are stored once);
every point that is not stored gets exactly one dead-letter row, which the
worker later publishes on the gateway's errors topic.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg

from alerts.service import record_detection
from devices.models import DeviceRoute
from devices.service import activate_devices, routes_for_serials, touch_gateways
from hub.domain import CANONICAL_UNIT, ParsedPoint, Rejection, RejectionCode
from hub.readings import COPY_TYPES
from hub.sql import queries
from ingest.topics import parse_readings_topic
from ingest.validation import Validator
from streaming.service import MonitorCache, stream_reading

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]


#: How far back a redelivered message's rejection is looked for.
_REDELIVERY_WINDOW = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Received:
    """An MQTT message as handed over by the network thread."""

    topic: str
    payload: bytes
    mid: int
    dup: bool
    received_at: datetime
    generation: int


@dataclass(slots=True)
class BatchResult:
    messages: int = 0
    points: int = 0
    stored: int = 0
    rejected: int = 0
    alerts_opened: int = 0
    evidence: int = 0
    codes: dict[str, int] = field(default_factory=dict)


class DeviceDirectory:
    """Cache of serial → route, refreshed after ``ttl_s`` and on every miss.

    Misses are looked up in the database each batch (a device registered a
    second ago is found); known routes are re-read after ``ttl_s`` so that a
    disabled or moved device is noticed.
    """

    def __init__(self, *, ttl_s: float = 30.0) -> None:
        self._ttl_s = ttl_s
        self._routes: dict[str, tuple[float, DeviceRoute]] = {}

    def lookup(self, conn: Conn, *, serials: Iterable[str]) -> dict[str, DeviceRoute]:
        now = time.monotonic()
        found: dict[str, DeviceRoute] = {}
        missing: list[str] = []
        for serial in set(serials):
            cached = self._routes.get(serial)
            if cached is not None and now - cached[0] < self._ttl_s:
                found[serial] = cached[1]
            else:
                missing.append(serial)
        if missing:
            for serial, route in routes_for_serials(conn, serials=missing).items():
                self._routes[serial] = (now, route)
                found[serial] = route
        return found

    def forget(self) -> None:
        self._routes.clear()


@dataclass(frozen=True, slots=True)
class _DeadLetter:
    message: Received
    gateway_id: str | None
    device_serial: str | None
    rejection: Rejection


def prepare_connection(conn: Conn) -> None:
    """Create the per-connection staging table (once per connection)."""
    with conn.transaction():
        conn.execute(queries["create_readings_staging"])


def store_batch(
    conn: Conn,
    *,
    batch: Sequence[Received],
    validator: Validator,
    directory: DeviceDirectory,
    monitors: MonitorCache | None = None,
) -> BatchResult:
    """Validate, route and store ``batch`` inside the caller's transaction.

    With ``monitors``, the readings the insert added are scored and their
    alerts and the detector checkpoints are written in the same transaction.
    """
    result = BatchResult(messages=len(batch))
    dead: list[_DeadLetter] = []
    parsed: list[tuple[Received, str, str, tuple[tuple[int, ParsedPoint], ...]]] = []
    for msg in batch:
        topic = parse_readings_topic(msg.topic)
        if topic is None:
            rejection = Rejection(RejectionCode.TOPIC_INVALID, "not a readings topic")
            dead.append(_DeadLetter(msg, None, None, rejection))
            continue
        message = validator.parse(msg.payload, now=msg.received_at)
        for rejection in message.rejections:
            dead.append(_DeadLetter(msg, topic.gateway_id, topic.device_serial, rejection))
        if message.points:
            parsed.append((msg, topic.gateway_id, topic.device_serial, message.points))

    routes = directory.lookup(conn, serials=(serial for _, _, serial, _ in parsed))
    rows: list[tuple[object, ...]] = []
    seen_gateways: set[str] = set()
    used_devices: set[int] = set()
    for msg, gateway_id, serial, points in parsed:
        result.points += len(points)
        route = routes.get(serial)
        problem = _route_problem(route, gateway_id, serial)
        for index, point in points:
            if problem is None and route is not None and point.measure not in route.kind.measures:
                code, detail = (
                    RejectionCode.MEASURE_NOT_FOR_DEVICE,
                    (f"a {route.kind.value} does not report {point.measure.value}"),
                )
            elif problem is not None:
                code, detail = problem
            else:
                assert route is not None
                rows.append(_row(point, route, msg.received_at))
                used_devices.add(route.id)
                seen_gateways.add(gateway_id)
                continue
            rejection = Rejection(code, detail, header_id=point.header_id, index=index)
            dead.append(_DeadLetter(msg, gateway_id, serial, rejection))

    if rows:
        if monitors is not None:
            # Before the insert, so a cold start replays only older history.
            monitors.load(conn, patient_ids={route.patient_id for route in routes.values()})
        with conn.cursor() as cur:
            with cur.copy(queries["copy_readings_staging"]) as copy:
                copy.set_types(list(COPY_TYPES))
                for row in rows:
                    copy.write_row(row)
            cur.execute(queries["insert_readings_from_staging"])
            added = [stream_reading(r) for r in cur.fetchall()]
        result.stored = len(added)
        latest = max(msg.received_at for msg in batch)
        touch_gateways(conn, gateway_ids=seen_gateways, seen_at=latest)
        activate_devices(conn, device_ids=used_devices)
        if monitors is not None and added:
            for detection in monitors.process(added):
                recorded = record_detection(conn, detection=detection, now=latest)
                result.evidence += 1
                result.alerts_opened += int(recorded.opened)
            monitors.save(conn, now=latest)
    for letter in dead:
        if _record_dead_letter(conn, letter):
            result.rejected += 1
            name = letter.rejection.code.value
            result.codes[name] = result.codes.get(name, 0) + 1
    return result


def quarantine(conn: Conn, *, message: Received, detail: str) -> None:
    """Keep a message the hub failed to process, so it is never lost.

    Used when a batch fails for a reason other than the database being away:
    the message is kept whole in the dead-letter table for replay, and the
    gateway is told with ``internal_error``.
    """
    topic = parse_readings_topic(message.topic)
    rejection = Rejection(RejectionCode.INTERNAL_ERROR, detail)
    letter = _DeadLetter(
        message,
        topic.gateway_id if topic else None,
        topic.device_serial if topic else None,
        rejection,
    )
    _record_dead_letter(conn, letter)


def _route_problem(
    route: DeviceRoute | None, gateway_id: str, serial: str
) -> tuple[RejectionCode, str] | None:
    if route is None:
        return RejectionCode.UNKNOWN_DEVICE, f"device {serial} is not registered"
    if route.gateway_id != gateway_id:
        return RejectionCode.DEVICE_NOT_ON_GATEWAY, (
            f"device {serial} is not registered to gateway {gateway_id}"
        )
    if not route.accepts_readings:
        return RejectionCode.DEVICE_DISABLED, f"device {serial} or its gateway is disabled"
    return None


def _row(point: ParsedPoint, route: DeviceRoute, received_at: datetime) -> tuple[object, ...]:
    return (
        point.measured_at,
        route.id,
        point.measure.value,
        route.patient_id,
        point.value,
        point.value2,
        CANONICAL_UNIT[point.measure],
        point.original_value,
        point.original_value2,
        point.original_unit,
        point.modality.value,
        point.schema_version,
        point.header_id,
        received_at,
        point.descriptive_statistic,
    )


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


def _record_dead_letter(conn: Conn, letter: _DeadLetter) -> bool:
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
