"""Detection inside the ingest transaction, with checkpoints that commit with it.

The ingest worker keeps a :class:`MonitorCache`. For each batch it loads the
monitors of the batch's patients *before* the new readings are inserted (from
the cache, from their checkpoints, or — on a cold start — by replaying the
patient's stored history), feeds them the rows the insert actually added, in
arrival order, and saves their checkpoints; readings, alerts and checkpoints
then commit together. Redelivered readings insert nothing and so are never
scored twice. If the transaction fails, :meth:`MonitorCache.rolled_back`
forgets the monitors it touched, and they are reloaded from their committed
checkpoints.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import psycopg

from hub.domain import Measure
from hub.sql import queries
from streaming.models import Detection, StreamReading

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]


class Monitor(Protocol):
    """A patient's detectors: what the cache stores and checkpoints."""

    def process(self, reading: StreamReading) -> list[Detection]: ...


#: Builds a fresh monitor for a patient on a pathway.
MonitorFactory = Callable[[UUID, str], Monitor]


@dataclass(slots=True)
class _Entry:
    monitor: Monitor
    covered: int  # readings the state has seen


def stream_reading(row: Sequence[Any]) -> StreamReading:
    """A reading row (patient, device, measure, time, value, value2, received)."""
    patient_id, device_id, measure, measured_at, value, value2, received_at = row
    return StreamReading(
        patient_id=patient_id,
        device_id=int(device_id),
        measure=Measure(measure),
        measured_at=measured_at,
        value=float(value),
        value2=None if value2 is None else float(value2),
        received_at=received_at,
    )


def arrival_order(readings: Iterable[StreamReading]) -> list[StreamReading]:
    """Readings as they arrived: by time received, then by measurement time."""
    return sorted(readings, key=lambda r: (r.received_at, r.measured_at, r.device_id))


class MonitorCache:
    """Committed per-patient monitors; the checkpoints in the database are the truth."""

    def __init__(self, *, factory: MonitorFactory, code_version: int) -> None:
        self._factory = factory
        self._code_version = code_version
        self._entries: dict[UUID, _Entry] = {}
        self._dirty: set[UUID] = set()

    def load(self, conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
        """Make sure the monitors of these patients are in memory (before the insert)."""
        missing = sorted(set(patient_ids) - self._entries.keys())
        if not missing:
            return
        found: dict[UUID, _Entry] = {}
        for patient_id, state, version, covered in conn.execute(
            queries["checkpoints_for_patients"], {"patient_ids": missing}
        ).fetchall():
            if version == self._code_version:
                found[patient_id] = _Entry(pickle.loads(state), int(covered))  # noqa: S301 - our own state
        pathways = dict(
            conn.execute(queries["pathways_for_patients"], {"patient_ids": missing}).fetchall()
        )
        for patient_id in missing:
            entry = found.get(patient_id)
            if entry is None:
                entry = self._rebuild(conn, patient_id, str(pathways.get(patient_id, "default")))
            self._entries[patient_id] = entry

    def _rebuild(self, conn: Conn, patient_id: UUID, pathway: str) -> _Entry:
        """Cold start: replay the stored history; what it detects was alerted already."""
        entry = _Entry(self._factory(patient_id, pathway), 0)
        rows = conn.execute(queries["history_of_patient"], {"patient_id": patient_id}).fetchall()
        for row in rows:
            entry.monitor.process(stream_reading(row))
            entry.covered += 1
        if rows:
            self._dirty.add(patient_id)
            log.info(
                "detector state rebuilt",
                extra={"patient_id": str(patient_id), "readings": len(rows)},
            )
        return entry

    def process(self, readings: Iterable[StreamReading]) -> list[Detection]:
        """Score newly stored readings in arrival order; monitors must be loaded."""
        detections: list[Detection] = []
        for reading in arrival_order(readings):
            entry = self._entries[reading.patient_id]
            detections.extend(entry.monitor.process(reading))
            entry.covered += 1
            self._dirty.add(reading.patient_id)
        return detections

    def save(self, conn: Conn, *, now: datetime) -> None:
        """Write the checkpoints of the monitors this transaction changed."""
        for patient_id in sorted(self._dirty):
            entry = self._entries[patient_id]
            conn.execute(
                queries["save_checkpoint"],
                {
                    "patient_id": patient_id,
                    "state": pickle.dumps(entry.monitor, protocol=pickle.HIGHEST_PROTOCOL),
                    "code_version": self._code_version,
                    "readings_covered": entry.covered,
                    "last_received_at": now,
                    "now": now,
                },
            )

    def committed(self) -> None:
        self._dirty.clear()

    def rolled_back(self) -> None:
        """Forget what the failed transaction changed; reload it from checkpoints."""
        for patient_id in self._dirty:
            self._entries.pop(patient_id, None)
        self._dirty.clear()

    def __len__(self) -> int:
        return len(self._entries)
