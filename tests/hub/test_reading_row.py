"""The reading row types: the SQL's column lists are theirs, and a row survives the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, get_type_hints
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from devices.models import DeviceRoute
from devices.service import create_device, create_gateway, new_gateway_id
from flows.writer import _row
from hub import patients
from hub.domain import DeviceKind, Measure, Modality, ParsedPoint
from hub.reading_row import COPY_TYPES, ReadingRow, ScoringRow, scored_values, scoring_row
from hub.sql import queries
from streaming.rows import stream_reading

AT = datetime(2026, 3, 1, 7, tzinfo=UTC)


def _columns(listed: str) -> tuple[str, ...]:
    """``"r.a, b\\n  c"`` -> ``("a", "b", "c")``."""
    return tuple(name.strip().removeprefix("r.") for name in listed.split(","))


@pytest.mark.parametrize("name", ["copy_readings_staging", "copy_readings"])
def test_the_copy_lists_the_reading_rows_columns_in_its_order(name: str) -> None:
    found = re.search(r"^COPY \w+ \((.*?)\) FROM STDIN", queries[name], re.DOTALL | re.MULTILINE)
    assert found is not None
    assert _columns(found.group(1)) == ReadingRow._fields


def test_the_insert_returns_and_the_catch_up_selects_the_scoring_rows_columns() -> None:
    returning = re.search(r"^RETURNING (.*?);?$", queries["insert_readings_from_staging"], re.M)
    assert returning is not None
    assert _columns(returning.group(1)) == ScoringRow._fields
    replayed = re.search(r"^SELECT (.*?)\nFROM", queries["readings_after_positions"], re.M | re.S)
    assert replayed is not None
    assert _columns(replayed.group(1)) == ScoringRow._fields


def test_a_scoring_row_has_the_reading_rows_columns_and_types() -> None:
    reading = get_type_hints(ReadingRow)  # without the COPY types
    for name, hint in get_type_hints(ScoringRow).items():
        assert reading[name] == hint, name


def test_the_writer_fills_each_column_by_its_name() -> None:
    """Every column from its own source (the writer builds the row by position)."""
    point = ParsedPoint(
        measure=Measure.BODY_WEIGHT,
        schema_version="4.0",
        measured_at=AT,
        value=81.5,
        value2=80.5,
        original_value=179.7,
        original_value2=177.5,
        original_unit="lb",
        modality=Modality.SELF_REPORTED,
        header_id="h-1",
        descriptive_statistic="average",
        activity="at rest",
        sequence=12,
    )
    route = DeviceRoute(
        "SC-1", 77, DeviceKind.SCALE, "gw-1", UUID(int=5), status="active", gateway_status="active"
    )
    received = AT + timedelta(seconds=40)
    row = _row(point, route, received)
    assert row._asdict() == {
        "patient_id": UUID(int=5),
        "device_id": 77,
        "measure": "body-weight",
        "measured_at": AT,
        "value": 81.5,
        "value2": 80.5,
        "received_at": received,
        "activity": "at rest",
        "unit": "kg",
        "original_value": 179.7,
        "original_value2": 177.5,
        "original_unit": "lb",
        "modality": "self-reported",
        "schema_version": "4.0",
        "header_id": "h-1",
        "descriptive_statistic": "average",
        "sequence": 12,
    }
    assert (type(row.measure), type(row.modality)) == (str, str)  # values, not enum members
    assert scored_values(row) == tuple(getattr(row, f) for f in ScoringRow._fields)


@pytest.mark.services
def test_each_copy_type_is_its_columns_type_in_the_database(
    conn: psycopg.Connection[Any],
) -> None:
    rows = conn.execute(
        "SELECT attname, atttypid FROM pg_attribute"
        " WHERE attrelid = 'readings'::regclass AND attnum > 0 AND NOT attisdropped"
    ).fetchall()
    table = {str(name): int(oid) for name, oid in rows}
    copied = {name: psycopg.adapters.types[kind].oid for name, kind in zip(
        ReadingRow._fields, COPY_TYPES, strict=True
    )}  # fmt: skip
    assert copied == table  # every column, each with its type


def _reading_rows(conn: psycopg.Connection[Any]) -> list[ReadingRow]:
    patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    gateway = new_gateway_id()
    create_gateway(conn, gateway_id=gateway, label=None)
    cuff = create_device(
        conn, serial="BP-ROW", kind=DeviceKind.BP_CUFF, gateway_id=gateway, patient_id=patient.id
    )
    scale = create_device(
        conn, serial="SC-ROW", kind=DeviceKind.SCALE, gateway_id=gateway, patient_id=patient.id
    )
    bp = ReadingRow(
        measured_at=AT,
        device_id=cuff.id,
        measure="blood-pressure",
        patient_id=patient.id,
        value=131.0,
        value2=84.0,
        unit="mmHg",
        original_value=17.5,
        original_value2=11.2,
        original_unit="kPa",
        modality="sensed",
        schema_version="4.0",
        header_id="row-bp",
        received_at=AT + timedelta(seconds=40),
        descriptive_statistic=None,
        activity="at rest",
        sequence=12,
    )
    weight = bp._replace(
        measured_at=AT + timedelta(minutes=5),
        device_id=scale.id,
        measure="body-weight",
        value=81.5,
        value2=None,
        unit="kg",
        original_value=179.7,
        original_value2=None,
        original_unit="lb",
        modality="self-reported",
        header_id="row-weight",
        descriptive_statistic="average",
        activity=None,
        sequence=None,
    )
    return [bp, weight]


@pytest.mark.services
def test_a_row_copied_is_stored_column_by_column(conn: psycopg.Connection[Any]) -> None:
    rows = _reading_rows(conn)
    conn.execute(queries["create_readings_staging"])
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(queries["copy_readings_staging"]) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.execute(queries["insert_readings_from_staging"])
    query = sql.SQL("SELECT {} FROM readings ORDER BY measured_at").format(
        sql.SQL(", ").join(map(sql.Identifier, ReadingRow._fields))
    )
    assert [ReadingRow._make(row) for row in conn.execute(query).fetchall()] == rows


def _store(conn: psycopg.Connection[Any], rows: list[ReadingRow]) -> tuple[int, list[ScoringRow]]:
    with conn.transaction(), conn.cursor(row_factory=scoring_row) as cur:
        with cur.copy(queries["copy_readings_staging"]) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.execute(queries["insert_readings_from_staging"])
        return cur.rowcount, cur.fetchall()


@pytest.mark.services
def test_a_row_copied_comes_back_from_the_insert_and_the_catch_up_by_name(
    conn: psycopg.Connection[Any],
) -> None:
    rows = _reading_rows(conn)
    conn.execute(queries["create_readings_staging"])
    added, returned = _store(conn, rows)
    assert added == len(returned) == 2  # the rowcount counts what the insert added
    by_time = sorted(returned, key=lambda r: r.measured_at)
    for written, back in zip(rows, by_time, strict=True):
        assert type(back) is ScoringRow
        assert back == tuple(getattr(written, name) for name in ScoringRow._fields)
        assert type(back.patient_id) is type(written.patient_id)  # a UUID both ways
        assert stream_reading(back) == stream_reading(written)
    # Sent again: nothing is added, and the insert says so.
    assert _store(conn, rows) == (0, [])
    none = [None]
    with conn.cursor(row_factory=scoring_row) as cur:
        replayed = cur.execute(
            queries["readings_after_positions"],
            {
                "patient_ids": [rows[0].patient_id],
                "received": none,
                "measured": none,
                "devices": none,
                "measures": none,
            },
        ).fetchall()
    assert sorted(replayed) == sorted(returned)


@pytest.mark.services
def test_a_query_whose_columns_are_not_the_rows_is_refused(
    conn: psycopg.Connection[Any],
) -> None:
    query = queries["readings_after_positions"].replace(
        "r.patient_id, r.device_id", "r.device_id, r.patient_id"
    )
    with (
        conn.cursor(row_factory=scoring_row) as cur,
        pytest.raises(psycopg.ProgrammingError, match="selects patient_id, device_id"),
    ):
        cur.execute(
            query,
            {"patient_ids": [], "received": [], "measured": [], "devices": [], "measures": []},
        )
