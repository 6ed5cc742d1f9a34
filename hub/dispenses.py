"""Dispenses: repository functions over a connection (keyword-only, never commit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from hub.db import Conn
from hub.domain import Dispense
from hub.drug_codes import classify_by_loaded_codes
from hub.sql import queries

Source = Literal["mqtt", "http", "csv"]


@dataclass(frozen=True, slots=True)
class Stored:
    """What a batch of dispenses did: new rows, of which held, and duplicates."""

    stored: int
    held: int
    duplicates: int
    #: The idempotency key of each new row, and its patient (None: held).
    new: Mapping[str, UUID | None] = field(default_factory=dict)
    #: Dispenses of the batch that only a loaded drug code (``drug_codes``) classified.
    by_loaded_code: int = 0


def insert_dispenses(
    conn: Conn,
    *,
    dispenses: Sequence[Dispense],
    source: Source,
    received_at: datetime,
    feed_id: str | None = None,
) -> Stored:
    """Store new dispenses (a known idempotency key is a duplicate, skipped).

    ``feed_id`` is the pharmacy feed that sent them over MQTT. A dispense of
    no known drug whose code the deployment loaded (``lastmile import rxnorm``)
    is stored with that code's drug and classes.
    """
    if not dispenses:
        return Stored(0, 0, 0, {})
    dispenses, by_loaded_code = classify_by_loaded_codes(conn, dispenses=dispenses)
    rows = conn.execute(
        queries["insert_dispenses"],
        {
            "source": source,
            "feed_id": feed_id,
            "received_at": received_at,
            "keys": [d.dedup_key for d in dispenses],
            "identifiers": [d.identifier for d in dispenses],
            "patient_systems": [d.patient_system for d in dispenses],
            "patient_values": [d.patient_value for d in dispenses],
            "code_systems": [d.code_system for d in dispenses],
            "codes": [d.code for d in dispenses],
            "medications": [d.medication for d in dispenses],
            "drugs": [d.drug for d in dispenses],
            "classes": [",".join(sorted(d.classes)) for d in dispenses],
            "filled": [d.filled_on for d in dispenses],
            "supplies": [d.days_supply for d in dispenses],
            "quantities": [d.quantity for d in dispenses],
        },
    ).fetchall()
    new = {str(key): patient_id for key, patient_id in rows}
    held = sum(1 for patient_id in new.values() if patient_id is None)
    return Stored(len(rows), held, len(dispenses) - len(rows), new, by_loaded_code)


def match_held_dispenses(conn: Conn, *, patient_id: UUID) -> int:
    """Give the patient the dispenses held for its identifiers; how many."""
    return len(conn.execute(queries["match_held_dispenses"], {"patient_id": patient_id}).fetchall())
