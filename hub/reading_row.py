"""A reading as a row: the columns the ingest COPY writes, and those the scorer reads.

:class:`ReadingRow` declares every column of ``readings`` once, in the order
of the COPY's column list (``copy_readings_staging`` and ``copy_readings`` in
``hub/sql/readings.sql``), each with the PostgreSQL type its binary COPY
sends; :data:`COPY_TYPES` is derived from it. :class:`ScoringRow` is what the
detectors read of a stored reading: what the batch's insert returns
(``insert_readings_from_staging``) and what a catch-up replays
(``readings_after_positions``), read by :func:`scoring_row`. Its columns are
the first of :class:`ReadingRow`'s, by the same names (checked on import), so
the scorer's part of either row is a slice of it: :func:`scored_values`.
``tests/hub/test_reading_row.py`` holds the SQL column lists to these fields.

>>> at = datetime(2026, 3, 1, 7)
>>> row = ScoringRow(UUID(int=1), 7, "body-weight", at, 80.0, None, at, None)
>>> reading = ReadingRow(*row, "kg", 176.4, None, "lb", "sensed", "4.0", "h1", None, None)
>>> reading.original_unit, scored_values(reading) == row == scored_values(row)
('lb', True)
>>> type(scored_values(reading))
<class 'tuple'>
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple, get_type_hints
from uuid import UUID

import psycopg
from psycopg.pq import ExecStatus
from psycopg.rows import RowMaker, no_result

# What each field of ReadingRow is annotated with, after its Python type: the
# PostgreSQL type its binary COPY sends.
_TIMESTAMPTZ = "timestamptz"
_INT8 = "int8"
_TEXT = "text"
_UUID = "uuid"
_FLOAT8 = "float8"


class ScoringRow(NamedTuple):
    """What the detectors read of a stored reading (``value2``: the diastolic pressure)."""

    patient_id: UUID
    device_id: int
    #: The measure's value (``Measure.value``), e.g. ``"body-weight"``.
    measure: str
    measured_at: datetime
    #: In the measure's canonical unit.
    value: float
    value2: float | None
    received_at: datetime
    #: Temporal relationship to physical activity, as sent.
    activity: str | None


class ReadingRow(NamedTuple):
    """One reading as the ingest COPY writes it: :class:`ScoringRow`'s columns, then the rest."""

    patient_id: Annotated[UUID, _UUID]
    device_id: Annotated[int, _INT8]
    measure: Annotated[str, _TEXT]
    measured_at: Annotated[datetime, _TIMESTAMPTZ]
    value: Annotated[float, _FLOAT8]
    value2: Annotated[float | None, _FLOAT8]
    received_at: Annotated[datetime, _TIMESTAMPTZ]
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


if ReadingRow._fields[: len(ScoringRow._fields)] != ScoringRow._fields:
    raise TypeError("ReadingRow's first columns must be ScoringRow's, in its order")

#: The binary COPY types of :class:`ReadingRow`'s columns, in its order.
COPY_TYPES: tuple[str, ...] = tuple(
    hint.__metadata__[0] for hint in get_type_hints(ReadingRow, include_extras=True).values()
)

#: The :class:`ScoringRow` columns of a :class:`ReadingRow` (or of a
#: :class:`ScoringRow`) as a plain tuple (a slice, in C).
scored_values: Callable[[ReadingRow | ScoringRow], tuple[Any, ...]] = operator.itemgetter(
    slice(len(ScoringRow._fields))
)

#: ``ScoringRow._make`` without its length check (the names were checked): all in C.
_make_scoring_row = functools.partial(tuple.__new__, ScoringRow)

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


def scoring_row(cursor: psycopg.Cursor[Any]) -> RowMaker[ScoringRow]:
    """A psycopg row factory: each row as a :class:`ScoringRow`.

    The query must select the row's columns by their names, in their order;
    it is checked once per query, not per row.
    """
    result = cursor.pgresult
    if result is None or result.status not in _ROWS or (description := cursor.description) is None:
        return no_result  # no rows: a COPY, or a statement without RETURNING
    names = tuple(column.name for column in description)
    if names != ScoringRow._fields:
        msg = f"a ScoringRow query selects {', '.join(ScoringRow._fields)}, not {', '.join(names)}"
        raise psycopg.ProgrammingError(msg)
    return _make_scoring_row
