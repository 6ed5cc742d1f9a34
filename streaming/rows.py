"""A stored reading's row as the scorer gets it, and its place in arrival order.

The batch's insert returns (patient, device, measure, measured, value, value2,
received, activity) for each new reading (``insert_readings_from_staging`` in
``hub/sql/readings.sql``); :func:`stream_reading` makes it the
:class:`~hub.alerting.StreamReading` the monitors score, on the hot path.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from hub.alerting import StreamReading
from hub.domain import Measure

#: Position of a reading in arrival order.
Position = tuple[datetime, datetime, int, str]


def position_of(reading: StreamReading) -> Position:
    return (reading.received_at, reading.measured_at, reading.device_id, reading.measure.value)


#: Measures by their value: a dict lookup is several times cheaper than ``Measure(text)``.
_MEASURES = {m.value: m for m in Measure}


@functools.lru_cache(maxsize=1 << 16)
def _patient_uuid(text: str) -> UUID:
    """``UUID(text)``, parsed once per patient rather than once per reading."""
    return UUID(text)


def stream_reading(row: Sequence[Any]) -> StreamReading:
    """A reading row (patient, device, measure, time, value, value2, received[, activity]).

    The patient is a UUID or its text.

    >>> from datetime import UTC
    >>> at = datetime(2026, 3, 1, 7, tzinfo=UTC)
    >>> patient = "00000000-0000-0000-0000-000000000001"
    >>> r = stream_reading((patient, 7, "body-weight", at, 80, None, at))
    >>> r.patient_id.int, r.measure, r.value, r.activity
    (1, <Measure.BODY_WEIGHT: 'body-weight'>, 80.0, None)
    """
    patient_id, device_id, measure, measured_at, value, value2, received_at = row[:7]
    return StreamReading(
        patient_id=patient_id if isinstance(patient_id, UUID) else _patient_uuid(patient_id),
        device_id=int(device_id),
        measure=_MEASURES.get(measure) or Measure(measure),
        measured_at=measured_at,
        value=float(value),
        value2=None if value2 is None else float(value2),
        received_at=received_at,
        activity=row[7] if len(row) > 7 else None,
    )
