"""A monitor's checkpoint: its pickled state and the last reading it covers.

Written in the transaction of the batch that makes it due
(:mod:`streaming.service` says when, and how a monitor is restored from one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hub.db import Conn
from hub.sql import queries
from streaming.rows import Position


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A monitor's pickled state and the last reading it covers."""

    patient_id: UUID
    state: bytes
    covered: int
    position: Position


def write_checkpoints(
    conn: Conn, *, checkpoints: Sequence[Checkpoint], code_version: int, now: datetime
) -> None:
    """Upsert ``checkpoints`` in the caller's transaction."""
    if not checkpoints:
        return
    conn.execute(
        queries["save_checkpoints"],
        {
            "code_version": code_version,
            "now": now,
            "patient_ids": [c.patient_id for c in checkpoints],
            "states": [c.state for c in checkpoints],
            "covered": [c.covered for c in checkpoints],
            "received": [c.position[0] for c in checkpoints],
            "measured": [c.position[1] for c in checkpoints],
            "devices": [c.position[2] for c in checkpoints],
            "measures": [c.position[3] for c in checkpoints],
        },
    )
