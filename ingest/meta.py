"""Device metadata over MQTT: ``lastmile/v1/gateways/{gateway_id}/devices/{serial}/meta``.

The payload is one JSON object; every field is optional, but at least one
of the first three must be there, and no other field may be::

    {"battery_percent": 64, "firmware": "2.4.1", "signal_dbm": -71,
     "reported_at": "2025-03-10T07:58:00+01:00"}

``battery_percent`` is 0 to 100, ``firmware`` 1 to 64 printable ASCII characters,
``signal_dbm`` -150 to 0 (numbers are rounded to whole units), ``reported_at``
an RFC 3339 time with an offset, no later than the receipt plus the
readings' future tolerance (default: the time the hub received it).

A bad payload gets one rejection on the gateway's errors topic, shaped like a
reading's (``header_id`` null) and one dead letter: ``malformed_json``,
``schema_invalid``, ``time_in_future`` or ``payload_too_large``; a report for
a device that is not registered, is on another gateway, is disabled or
retired gets the same codes as its readings would. Only the newest report
per device is kept (:mod:`devices.meta`).

>>> from datetime import UTC, datetime, timedelta
>>> at = datetime(2025, 3, 10, 7, tzinfo=UTC)
>>> parse_meta_payload(b'{"battery_percent": 4.4}', received_at=at,
...                    future_tolerance=timedelta(minutes=5))
DeviceMeta(battery_percent=4, firmware=None, signal_dbm=None, reported_at=..., received_at=...)
>>> parse_meta_payload(b'{"battery": 4}', received_at=at,
...                    future_tolerance=timedelta(minutes=5)).code.value
'schema_invalid'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.domain import DeviceMeta, Rejection, RejectionCode
from ingest.models import DeadLetter, Received
from ingest.validation import Validator

#: A metadata report is a few fields; anything much larger is not one.
MAX_META_BYTES = 4096


class _MetaIn(BaseModel):
    """The payload as sent; checked strictly (JSON types, no unknown fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    battery_percent: float | None = Field(default=None, ge=0, le=100)
    firmware: str | None = Field(default=None, pattern=r"^[\x20-\x7e]{1,64}$")
    signal_dbm: float | None = Field(default=None, ge=-150, le=0)
    reported_at: AwareDatetime | None = None


@dataclass(frozen=True, slots=True)
class MetaMessage:
    """One valid report and where it came from."""

    message: Received
    gateway_id: str
    device_serial: str
    meta: DeviceMeta


@dataclass(frozen=True, slots=True)
class ParsedMeta:
    """What one message on a meta topic became: a valid report or a dead letter."""

    valid: tuple[MetaMessage, ...]
    dead: tuple[DeadLetter, ...]


def _first_error(exc: ValidationError) -> tuple[RejectionCode, str]:
    error = exc.errors()[0]
    if error["type"] == "json_invalid":
        return RejectionCode.MALFORMED_JSON, "the payload is not JSON"
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return RejectionCode.SCHEMA_INVALID, f"{where}: {error['msg']}"


def parse_meta_payload(
    payload: bytes, *, received_at: datetime, future_tolerance: timedelta
) -> DeviceMeta | Rejection:
    """Validate one metadata payload. Never raises for any payload."""
    if len(payload) > MAX_META_BYTES:
        return Rejection(
            RejectionCode.PAYLOAD_TOO_LARGE, f"a meta payload is at most {MAX_META_BYTES} bytes"
        )
    try:
        sent = _MetaIn.model_validate_json(payload)
    except ValidationError as exc:
        return Rejection(*_first_error(exc))
    if sent.battery_percent is None and sent.firmware is None and sent.signal_dbm is None:
        return Rejection(
            RejectionCode.SCHEMA_INVALID,
            "a meta payload has battery_percent, firmware or signal_dbm",
        )
    reported_at = sent.reported_at or received_at
    if reported_at > received_at + future_tolerance:
        return Rejection(RejectionCode.TIME_IN_FUTURE, "reported_at is in the future")
    return DeviceMeta(
        battery_percent=None if sent.battery_percent is None else round(sent.battery_percent),
        firmware=sent.firmware,
        signal_dbm=None if sent.signal_dbm is None else round(sent.signal_dbm),
        reported_at=reported_at,
        received_at=received_at,
    )


def parse_meta_message(
    msg: Received, *, gateway_id: str, device_serial: str, validator: Validator
) -> ParsedMeta:
    """The report of a message on the meta topic of ``gateway_id`` and ``device_serial``."""
    parsed = parse_meta_payload(
        msg.payload, received_at=msg.received_at, future_tolerance=validator.future_tolerance
    )
    if isinstance(parsed, Rejection):
        return ParsedMeta((), (DeadLetter(msg, gateway_id, device_serial, parsed),))
    return ParsedMeta((MetaMessage(msg, gateway_id, device_serial, parsed),), ())
