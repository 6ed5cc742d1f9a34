"""Reading stored readings back: raw points or ``time_bucket`` aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from hub.db import Conn
from hub.domain import Measure
from hub.sql import queries

#: Buckets the API offers, as PostgreSQL intervals.
BUCKETS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}


def raw_readings(
    conn: Conn,
    *,
    patient_id: UUID,
    measure: Measure,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    params = {
        "patient_id": patient_id,
        "measure": measure.value,
        "start": start,
        "end": end,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries["readings_raw"], params).fetchall()


def bucketed_readings(
    conn: Conn,
    *,
    patient_id: UUID,
    measure: Measure,
    start: datetime,
    end: datetime,
    bucket: timedelta,
    limit: int,
) -> list[dict[str, Any]]:
    params = {
        "patient_id": patient_id,
        "measure": measure.value,
        "start": start,
        "end": end,
        "bucket": bucket,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries["readings_bucketed"], params).fetchall()


def latest_readings(conn: Conn, *, limit: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries["latest_readings"], {"limit": limit}).fetchall()
