"""Lines of cohort files for the tests (simulated values only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(d: float, hours: float = 7.0) -> datetime:
    return T0 + timedelta(days=d, hours=hours)


def line(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc) + b"\n"


def patient(key: str = "p1", pathway: str = "CHF", **more: Any) -> bytes:
    return line({"type": "patient", "key": key, "pathway": pathway, "enrolled": z(T0), **more})


def weight_point(kg: float, at: datetime, *, unit: str = "kg", header: str = "h") -> dict[str, Any]:
    return {
        "header": {
            "id": header,
            "creation_date_time": z(at),
            "schema_id": {"namespace": "omh", "name": "body-weight", "version": "1.0"},
        },
        "body": {
            "body_weight": {"value": kg, "unit": unit},
            "effective_time_frame": {"date_time": z(at)},
        },
    }


def bp_point(systolic: float, diastolic: float, at: datetime) -> dict[str, Any]:
    return {
        "header": {
            "id": f"bp-{z(at)}",
            "creation_date_time": z(at),
            "schema_id": {"namespace": "omh", "name": "blood-pressure", "version": "1.0"},
        },
        "body": {
            "systolic_blood_pressure": {"value": systolic, "unit": "mmHg"},
            "diastolic_blood_pressure": {"value": diastolic, "unit": "mmHg"},
            "effective_time_frame": {"date_time": z(at)},
        },
    }


def reading(
    point: Any,
    received: datetime,
    *,
    key: str = "p1",
    device: str | None = None,
) -> bytes:
    doc: dict[str, Any] = {
        "type": "reading",
        "patient": key,
        "received_at": z(received),
        "data_point": point,
    }
    if device is not None:
        doc["device"] = device
    return line(doc)


def weight(kg: float, d: float, *, key: str = "p1", late_min: float = 5.0, **kw: Any) -> bytes:
    at = day(d)
    return reading(weight_point(kg, at, **kw), at + timedelta(minutes=late_min), key=key)


def event(admission: datetime, *, key: str = "p1", **more: Any) -> bytes:
    return line({"type": "event", "patient": key, "admission": z(admission), **more})
