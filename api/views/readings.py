"""Readings of one patient and measure over a time range, raw or bucketed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import LaggedReadConnDep, PatientIdDep
from api.exceptions import BadRequestError
from api.schemas import ReadingBucket, ReadingPoint, ReadingsOut
from hub.domain import CANONICAL_UNIT, Measure
from hub.readings import BUCKETS, bucketed_readings, raw_readings

router = APIRouter(prefix="/api/v1")

MAX_POINTS = 10_000


@router.get("/patients/{patient_id}/readings", response_model=ReadingsOut)
def patient_readings(
    patient_id: PatientIdDep,
    conn: LaggedReadConnDep,
    measure: Measure,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    bucket: Literal["15m", "1h", "6h", "1d", "7d"] | None = None,
) -> ReadingsOut:
    """Raw points (at most 10,000) or per-bucket mean/min/max/count.

    ``from`` defaults to 30 days before ``to``, which defaults to now. For
    blood pressure ``value`` is the systolic and ``value2`` the diastolic
    pressure. With a read replica, served from it while it lacks nothing older than
    ``database_read_max_lag_s`` (5 s by default; docs/scaling.md).
    """
    end = _aware(end) if end is not None else datetime.now(UTC)
    start = _aware(start) if start is not None else end - timedelta(days=30)
    if start >= end:
        raise BadRequestError("invalid_range", "'from' must be before 'to'")
    out = ReadingsOut(
        patient_id=patient_id,
        measure=measure,
        unit=CANONICAL_UNIT[measure],
        start=start,
        end=end,
        bucket=bucket,
    )
    if bucket is None:
        rows = raw_readings(
            conn, patient_id=patient_id, measure=measure, start=start, end=end, limit=MAX_POINTS
        )
        out.points = [ReadingPoint(**row) for row in rows]
    else:
        rows = bucketed_readings(
            conn,
            patient_id=patient_id,
            measure=measure,
            start=start,
            end=end,
            bucket=BUCKETS[bucket],
            limit=MAX_POINTS,
        )
        out.buckets = [ReadingBucket(**row) for row in rows]
    return out


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise BadRequestError("naive_time", "times need a UTC offset, e.g. 2026-11-01T00:00:00Z")
    return moment.astimezone(UTC)
