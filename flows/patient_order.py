"""Each patient's readings in one order, whichever of several workers stores them.

With several ingest workers (docs/scaling.md) one patient's readings reach
different workers, and two of them may store batches of that patient at
the same time. Detection must still see each patient's readings as one
worker would: in arrival order, each once, with every reading stored before
it already scored. A batch of a worker of several therefore, in its
transaction and before its readings are scored or inserted:

1. takes a transaction-level advisory lock per patient
   (:func:`lock_patients`; keys in ascending order, so that two batches
   never wait for each other in a cycle): the batches of one patient commit
   one after the other, and its monitor, loaded after the lock, catches up
   with every reading committed before (:mod:`streaming.service`);
2. puts its readings after the patient's stored ones in arrival order
   (:func:`after_stored`). Arrival order is ``(received_at, measured_at,
   device, measure)``, and a worker may receive a reading before another
   worker receives a later one, yet store it after. Such a batch's
   ``received_at`` of that patient move to just after the newest stored (all
   by the same amount, which keeps their order): the time the hub could
   store them rather than the milliseconds earlier time a worker received
   them. So the order the readings are scored in is the arrival order a
   replay from the stored readings uses, and checkpoints only move forward;
3. after its insert, records where each patient's stored readings now end
   (:func:`advance_heads`, table ``patient_streams``): the next batch looks
   the newest arrival time up there, and a monitor that stands there has
   nothing to catch up (:mod:`streaming.service`), both by primary key
   rather than by probing every chunk of the readings.

A patient's key is the first 32 bits of their UUID (random in a version 4
UUID); two patients that share one only wait for each other.

>>> lock_key(UUID("00000001-0000-4000-8000-000000000000"))
1
>>> lock_key(UUID("ffffffff-0000-4000-8000-000000000000"))
-1
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from flows.sharing import PATIENT_LOCKS
from hub.db import Conn
from hub.reading_row import ReadingRow
from hub.sql import queries
from streaming.rows import Position, Row

log = logging.getLogger(__name__)

#: The resolution of ``timestamptz``.
_TICK = timedelta(microseconds=1)


def lock_key(patient_id: UUID) -> int:
    """The patient's advisory lock key (a signed int4)."""
    return int.from_bytes(patient_id.bytes[:4], "big", signed=True)


def lock_patients(conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
    """Lock these patients until the end of the transaction, one by one in key order."""
    keys = sorted({lock_key(p) for p in patient_ids})
    if keys:
        conn.execute(queries["lock_patients"], {"namespace": PATIENT_LOCKS, "keys": keys})


def after_stored(conn: Conn, *, rows: list[ReadingRow]) -> list[ReadingRow]:
    """``rows`` with each patient's ``received_at`` after their newest stored reading's.

    Call with the patients locked (:func:`lock_patients`).
    """
    earliest: dict[UUID, datetime] = {}
    for row in rows:
        first = earliest.get(row.patient_id)
        if first is None or row.received_at < first:
            earliest[row.patient_id] = row.received_at
    params = {"patient_ids": list(earliest)}
    heads: dict[UUID, datetime | None] = dict(
        conn.execute(queries["stream_heads"], params).fetchall()
    )
    unknown = [p for p in earliest if p not in heads]
    if unknown:
        params = {"patient_ids": unknown}
        heads.update(conn.execute(queries["stored_stream_heads"], params).fetchall())
    shifts: dict[UUID, timedelta] = {}
    for patient_id, head in heads.items():
        if head is not None and earliest[patient_id] <= head:
            shifts[patient_id] = head - earliest[patient_id] + _TICK
    if not shifts:
        return rows
    log.info(
        "readings put after the patient's stored ones",
        extra={
            "patients": len(shifts),
            "largest_shift_ms": round(max(shifts.values()) / timedelta(milliseconds=1), 3),
        },
    )
    return [
        row._replace(received_at=row.received_at + shifts[row.patient_id])
        if row.patient_id in shifts
        else row
        for row in rows
    ]


def advance_heads(conn: Conn, *, rows: Sequence[Row]) -> None:
    """Record each patient's newest of ``rows``, the readings a batch's insert added."""
    newest: dict[UUID, Position] = {}
    for row in rows:
        position = (row.received_at, row.measured_at, int(row.device_id), str(row.measure))
        known = newest.get(row.patient_id)
        if known is None or position > known:
            newest[row.patient_id] = position
    if not newest:
        return
    heads = sorted(newest.items(), key=lambda item: item[0].int)  # rows locked in key order
    conn.execute(
        queries["advance_stream_heads"],
        {
            "patient_ids": [p for p, _ in heads],
            "received": [h[0] for _, h in heads],
            "measured": [h[1] for _, h in heads],
            "devices": [h[2] for _, h in heads],
            "measures": [h[3] for _, h in heads],
        },
    )
