"""A reading as a row: the columns the ingest COPY writes.

:class:`ReadingRow` declares every column of ``readings`` once, in the order
of the COPY's column list (``copy_readings_staging`` and ``copy_readings`` in
``hub/sql/readings.sql``), each with the PostgreSQL type its binary COPY
sends; :data:`COPY_TYPES` is derived from it.
``tests/hub/test_reading_row.py`` holds the SQL column lists to these fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NamedTuple, get_type_hints
from uuid import UUID

# What each field of ReadingRow is annotated with, after its Python type: the
# PostgreSQL type its binary COPY sends.
_TIMESTAMPTZ = "timestamptz"
_INT8 = "int8"
_TEXT = "text"
_UUID = "uuid"
_FLOAT8 = "float8"


class ReadingRow(NamedTuple):
    """One reading as the ingest COPY writes it (``value2``: the diastolic pressure)."""

    patient_id: Annotated[UUID, _UUID]
    device_id: Annotated[int, _INT8]
    #: The measure's value (``Measure.value``), e.g. ``"body-weight"``.
    measure: Annotated[str, _TEXT]
    measured_at: Annotated[datetime, _TIMESTAMPTZ]
    #: In the measure's canonical unit.
    value: Annotated[float, _FLOAT8]
    value2: Annotated[float | None, _FLOAT8]
    received_at: Annotated[datetime, _TIMESTAMPTZ]
    #: Temporal relationship to physical activity, as sent.
    activity: Annotated[str | None, _TEXT]
    unit: Annotated[str, _TEXT]
    #: As sent.
    original_value: Annotated[float, _FLOAT8]
    original_value2: Annotated[float | None, _FLOAT8]
    original_unit: Annotated[str, _TEXT]
    modality: Annotated[str, _TEXT]
    schema_version: Annotated[str, _TEXT]
    header_id: Annotated[str, _TEXT]
    descriptive_statistic: Annotated[str | None, _TEXT]
    #: ``header.lastmile_sequence``, if sent.
    sequence: Annotated[int | None, _INT8]


#: The binary COPY types of :class:`ReadingRow`'s columns, in its order.
COPY_TYPES: tuple[str, ...] = tuple(
    hint.__metadata__[0] for hint in get_type_hints(ReadingRow, include_extras=True).values()
)
