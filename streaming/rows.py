"""A stored reading's row as the scorer gets it, and its place in arrival order.

The scorer gets a batch's rows as the writer copied them
(:class:`~hub.reading_row.ReadingRow`) or as the insert returned them
(:class:`~hub.reading_row.ScoringRow`); :func:`stream_reading` reads either by
its column names and makes it the :class:`~hub.alerting.StreamReading` the
monitors score, on the hot path.
"""

from __future__ import annotations

from datetime import datetime

from hub.alerting import StreamReading
from hub.domain import Measure
from hub.reading_row import ReadingRow, ScoringRow

#: A row the scorer takes.
Row = ReadingRow | ScoringRow

#: Position of a reading in arrival order.
Position = tuple[datetime, datetime, int, str]


def position_of(reading: StreamReading) -> Position:
    return (reading.received_at, reading.measured_at, reading.device_id, reading.measure.value)


#: Measures by their value: a dict lookup is several times cheaper than ``Measure(text)``.
_MEASURES = {m.value: m for m in Measure}


def stream_reading(row: Row) -> StreamReading:
    """The reading of a row, by the row's column names.

    >>> from datetime import UTC
    >>> from uuid import UUID
    >>> at = datetime(2026, 3, 1, 7, tzinfo=UTC)
    >>> row = ScoringRow(UUID(int=1), 7, "body-weight", at, 80, None, at, None)
    >>> r = stream_reading(row)
    >>> r.patient_id.int, r.measure, r.value, r.activity
    (1, <Measure.BODY_WEIGHT: 'body-weight'>, 80.0, None)
    """
    measure, value2 = row.measure, row.value2
    return StreamReading(
        patient_id=row.patient_id,
        device_id=int(row.device_id),
        measure=_MEASURES.get(measure) or Measure(measure),
        measured_at=row.measured_at,
        value=float(row.value),
        value2=None if value2 is None else float(value2),
        received_at=row.received_at,
        activity=row.activity,
    )
