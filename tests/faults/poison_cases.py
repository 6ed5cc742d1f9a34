"""The bad inputs of the poison test, and what each must become.

:func:`poison_round` builds one round of them for one gateway: every case is
a message (topic, payload) with the readings it must store and the
rejection codes it must leave, one dead letter (and one message on the
gateway's errors topic) per code. Valid readings take their times from a
:class:`Clock`, so no two of a device's readings are the same reading.

>>> from datetime import UTC, datetime
>>> clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
>>> cases = poison_round(
...     Targets("gw-1", "SC-1", "SC-2"), clock, now=datetime(2026, 2, 1, tzinfo=UTC),
...     max_bytes=1000, max_points=3,
... )
>>> [len(c.payload) for c in cases if c.name.startswith("size")]
[1000, 1001]
>>> sum(c.bad for c in cases) == sum(len(c.codes) for c in cases)
True
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from hub.topics import meta_topic, readings_topic, status_topic
from tests.support import weight_point

#: Ten years, the issue's "timestamps ten years off".
DECADE = timedelta(days=3653)


@dataclass(frozen=True, slots=True)
class Targets:
    """Where one gateway's messages go: its own scale and another gateway's."""

    gateway_id: str
    serial: str
    foreign_serial: str


@dataclass(frozen=True, slots=True)
class Case:
    """One message, the readings it stores and the rejection codes it leaves."""

    name: str
    topic: str
    payload: bytes
    stored: int = 0
    codes: tuple[str, ...] = ()

    @property
    def bad(self) -> int:
        """The bad inputs in this message (one per expected rejection)."""
        return len(self.codes)


class Clock:
    """Distinct measurement times, one minute apart, for one device."""

    def __init__(self, start: datetime) -> None:
        self._next = start

    def tick(self) -> datetime:
        at, self._next = self._next, self._next + timedelta(minutes=1)
        return at


def valid(clock: Clock) -> dict[str, Any]:
    """A valid body-weight reading at the clock's next time."""
    return weight_point(70.0, clock.tick(), header_id=str(uuid.uuid4()))


def _edit(clock: Clock, change: Callable[[dict[str, Any]], None]) -> bytes:
    point = valid(clock)
    change(point)
    return orjson.dumps(point)


def _set_value(value: object) -> Callable[[dict[str, Any]], None]:
    def change(point: dict[str, Any]) -> None:
        point["body"]["body_weight"]["value"] = value

    return change


def _token(clock: Clock, token: bytes) -> bytes:
    """A reading whose value is a bare token JSON does not have (NaN, Infinity)."""
    return orjson.dumps(valid(clock)).replace(b'"value":70.0', b'"value":' + token)


def _duplicate_body(clock: Clock) -> bytes:
    """A valid body, then the same key again with a bad one: the last one counts."""
    text = orjson.dumps(valid(clock))
    return text[:-1] + b',"body":{"body_weight":"heavy"}}'


def _schema_name(name: str) -> Callable[[dict[str, Any]], None]:
    def change(point: dict[str, Any]) -> None:
        point["header"]["schema_id"]["name"] = name

    return change


def _header_id(header_id: str) -> Callable[[dict[str, Any]], None]:
    def change(point: dict[str, Any]) -> None:
        point["header"]["id"] = header_id

    return change


def _padded(clock: Clock, size: int) -> bytes:
    text = orjson.dumps(valid(clock))
    return text + b" " * (size - len(text))


def poison_round(
    targets: Targets, clock: Clock, *, now: datetime, max_bytes: int, max_points: int
) -> list[Case]:
    """One of each bad input for one gateway, plus the valid edge cases beside them."""
    own = readings_topic(targets.gateway_id, targets.serial)
    reading = valid(clock)
    future = weight_point(70.0, now + DECADE, header_id=str(uuid.uuid4()))
    past = weight_point(70.0, clock.tick() - DECADE, header_id=str(uuid.uuid4()))
    full = [valid(clock) for _ in range(max_points)]
    over = [valid(clock) for _ in range(max_points + 1)]
    mixed = [valid(clock), valid(clock)]
    mixed[1]["body"]["body_weight"]["value"] = -5
    r = "readings: "
    return [
        Case(r + "invalid JSON", own, b'{"header": {"id": ', codes=("malformed_json",)),
        Case(r + "truncated", own, orjson.dumps(valid(clock))[:-9], codes=("malformed_json",)),
        Case(r + "value a string", own, _edit(clock, _set_value("70")), codes=("schema_invalid",)),
        Case(r + "value null", own, _edit(clock, _set_value(None)), codes=("schema_invalid",)),
        Case(r + "header a list", own, b'{"header": [], "body": {}}', codes=("schema_invalid",)),
        Case(r + "top level a string", own, b'"reading"', codes=("schema_invalid",)),
        Case(r + "empty array", own, b"[]", codes=("schema_invalid",)),
        Case(r + "NaN", own, _token(clock, b"NaN"), codes=("malformed_json",)),
        Case(r + "Infinity", own, _token(clock, b"Infinity"), codes=("malformed_json",)),
        Case(r + "-Infinity", own, _token(clock, b"-Infinity"), codes=("malformed_json",)),
        Case(r + "1e400", own, _token(clock, b"1e400"), codes=("malformed_json",)),
        Case(r + "1e308", own, _token(clock, b"1e308"), codes=("implausible_value",)),
        Case(r + "negative", own, _edit(clock, _set_value(-70)), codes=("implausible_value",)),
        Case(r + "1 byte {", own, b"{", codes=("malformed_json",)),
        Case(r + "1 byte 7", own, b"7", codes=("schema_invalid",)),
        Case(r + "1 byte NUL", own, b"\x00", codes=("malformed_json",)),
        Case("size max", own, _padded(clock, max_bytes), stored=1),
        Case("size max+1", own, _padded(clock, max_bytes + 1), codes=("payload_too_large",)),
        Case(f"array {max_points}", own, orjson.dumps(full), stored=max_points),
        Case(f"array {max_points + 1}", own, orjson.dumps(over), codes=("payload_too_large",)),
        Case("array valid+bad", own, orjson.dumps(mixed), stored=1, codes=("implausible_value",)),
        Case("ten years ahead", own, orjson.dumps(future), codes=("time_in_future",)),
        # A clock fault, not store and forward: over max_reading_age_days (5 years).
        Case("ten years ago", own, orjson.dumps(past), codes=("time_too_old",)),
        Case(
            "unknown device",
            readings_topic(targets.gateway_id, f"NOPE-{uuid.uuid4().hex[:8]}"),
            orjson.dumps(reading),
            codes=("unknown_device",),
        ),
        Case(
            "another gateway's device",
            readings_topic(targets.gateway_id, targets.foreign_serial),
            orjson.dumps(valid(clock)),
            codes=("device_not_on_gateway",),
        ),
        Case(r + "nested 5000", own, b"[" * 5000 + b"]" * 5000, codes=("malformed_json",)),
        Case(
            r + "nested 500 in value",
            own,
            _token(clock, b"[" * 500 + b"70" + b"]" * 500),
            codes=("schema_invalid",),
        ),
        Case(
            r + "invalid UTF-8",
            own,
            orjson.dumps(valid(clock)).replace(b'"kg"', b'"k\xff\xfe"'),
            codes=("malformed_json",),
        ),
        Case(
            r + "BOM", own, b"\xef\xbb\xbf" + orjson.dumps(valid(clock)), codes=("malformed_json",)
        ),
        Case(r + "duplicate key", own, _duplicate_body(clock), codes=("schema_invalid",)),
        Case(
            r + "NUL in header.id",
            own,
            _edit(clock, _header_id("a\x00b")),
            codes=("schema_invalid",),
        ),
        Case(
            r + "NUL in schema name",
            own,
            _edit(clock, _schema_name("x\x00")),
            codes=("schema_unsupported",),
        ),
        Case(
            r + "unsupported schema",
            own,
            _edit(clock, _schema_name("blood-glucose")),
            codes=("schema_unsupported",),
        ),
        Case(
            "meta: garbage",
            meta_topic(targets.gateway_id, targets.serial),
            b"\x00\x01garbage",
            codes=("malformed_json",),
        ),
        Case(
            "meta: wrong type",
            meta_topic(targets.gateway_id, targets.serial),
            b'{"battery_percent": "full"}',
            codes=("schema_invalid",),
        ),
        Case(
            "status: garbage",
            status_topic(targets.gateway_id),
            b"rebooting\xff",
            codes=("schema_invalid",),
        ),
    ]
