"""Types of the ingest path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.domain import Rejection


@dataclass(frozen=True, slots=True)
class Received:
    """An MQTT message as handed over by the network thread."""

    topic: str
    payload: bytes
    mid: int
    dup: bool
    received_at: datetime
    generation: int
    retained: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message, or one data point or dispense of it, that is not stored, and why.

    A reading's is told to its gateway; a dispense's (``feed_id`` set) to its
    pharmacy feed.
    """

    message: Received
    gateway_id: str | None
    device_serial: str | None
    rejection: Rejection
    feed_id: str | None = None
