"""Open mHealth data points as simulated devices send them (contract section 1).

Property names follow the official ``omh`` 1.0 schemas of each measure::

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 11, 20, 7, 12, tzinfo=UTC)
    >>> point = data_point(
    ...     heart_rate_body(72, at), "heart-rate",
    ...     header_id="h-1", created=at, source_name="SimCuff BP5",
    ... )
    >>> point["header"]["schema_id"]
    {'namespace': 'omh', 'name': 'heart-rate', 'version': '1.0'}
    >>> point["body"]["heart_rate"], point["body"]["effective_time_frame"]
    ({'value': 72, 'unit': 'beats/min'}, {'date_time': '2026-11-20T07:12:00Z'})
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import orjson

from hub.domain import Measure
from hub.measures import spec
from simulators.models import Malformation

#: A JSON object, as built here.
Json = dict[str, Any]

_LB_PER_KG = 2.2046226218

#: Units no conformant device sends, per measure.
_BAD_UNITS: dict[Measure, tuple[str, ...]] = {
    Measure.BODY_WEIGHT: ("stone", "st", "kilos"),
    Measure.BLOOD_PRESSURE: ("kPa", "mm[Hg]", "cmH2O"),
    Measure.HEART_RATE: ("bpm", "Hz"),
    Measure.OXYGEN_SATURATION: ("fraction", "percent"),
}

#: The first value field of each measure's body.
_VALUE_FIELD: dict[Measure, str] = {
    Measure.BODY_WEIGHT: "body_weight",
    Measure.BLOOD_PRESSURE: "systolic_blood_pressure",
    Measure.HEART_RATE: "heart_rate",
    Measure.OXYGEN_SATURATION: "oxygen_saturation",
}


def iso_z(at: datetime) -> str:
    """RFC 3339 with a ``Z``: ``2026-11-20T07:12:00Z`` (the datetime must be UTC)."""
    if at.utcoffset() != timedelta(0):
        msg = f"not a UTC datetime: {at!r}"
        raise ValueError(msg)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _frame(at: datetime) -> Json:
    return {"date_time": iso_z(at)}


def body_weight_body(weight_kg: float, at: datetime, *, unit: str = "kg") -> Json:
    value = weight_kg * _LB_PER_KG if unit == "lb" else weight_kg
    return {
        "body_weight": {"value": round(value, 1), "unit": unit},
        "effective_time_frame": _frame(at),
    }


def blood_pressure_body(systolic: float, diastolic: float, at: datetime) -> Json:
    return {
        "systolic_blood_pressure": {"value": round(systolic), "unit": "mmHg"},
        "diastolic_blood_pressure": {"value": round(diastolic), "unit": "mmHg"},
        "effective_time_frame": _frame(at),
    }


def heart_rate_body(bpm: float, at: datetime) -> Json:
    return {
        "heart_rate": {"value": round(bpm), "unit": "beats/min"},
        "effective_time_frame": _frame(at),
    }


def oxygen_saturation_body(percent: float, at: datetime) -> Json:
    return {
        "oxygen_saturation": {"value": min(100, round(percent)), "unit": "%"},
        "effective_time_frame": _frame(at),
        "system": "peripheral capillary",
        "measurement_method": "pulse oximetry",
    }


def measure_body(
    measure: Measure,
    value: float,
    at: datetime,
    *,
    unit: str | None = None,
    value2: float | None = None,
) -> Json:
    """A body of any measure of the spec: ``value`` (and ``value2``) given in the
    canonical unit, sent in ``unit`` (default: the canonical one).

    >>> from datetime import UTC, datetime
    >>> measure_body(Measure.BODY_WEIGHT, 80, datetime(2026, 11, 20, tzinfo=UTC), unit="lb")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'body_weight': {'value': 176.37, 'unit': 'lb'},
     'effective_time_frame': {'date_time': '2026-11-20T00:00:00Z'}}
    """
    described = spec(measure)
    unit = unit or described.unit
    conversion = described.units[unit]
    digits = described.digits + 1
    body: Json = {}
    for field, canonical in zip(described.fields, (value, value2), strict=False):
        if canonical is not None:
            sent = round(conversion.from_canonical(canonical), digits)
            body[field.name] = {"value": sent, "unit": unit}
    body["effective_time_frame"] = _frame(at)
    return body


def data_point(
    body: Json,
    schema_name: str,
    *,
    header_id: str,
    created: datetime,
    source_name: str,
    version: str = "1.0",
    modality: str = "sensed",
) -> Json:
    """Wrap a body in an Open mHealth header."""
    return {
        "header": {
            "id": header_id,
            "creation_date_time": iso_z(created),
            "schema_id": {"namespace": "omh", "name": schema_name, "version": version},
            "acquisition_provenance": {"source_name": source_name, "modality": modality},
        },
        "body": body,
    }


def encode(point_or_points: Json | list[Json]) -> bytes:
    return orjson.dumps(point_or_points)


def measure_of(point: Json) -> Measure:
    return Measure(point["header"]["schema_id"]["name"])


def malform(point: Json, how: Malformation, rng: random.Random, *, future_after: datetime) -> bytes:
    """Encode one data point broken in the given way.

    A time in the future is set at least a day after ``future_after`` (the
    stream's end, or the message's due time if that is later).
    """
    if how is Malformation.TRUNCATED_JSON:
        whole = encode(point)
        return whole[: rng.randint(1, len(whole) - 2)]
    broken = orjson.loads(encode(point))  # a deep copy
    measure = measure_of(broken)
    body = broken["body"]
    field = _VALUE_FIELD[measure]
    if how is Malformation.UNIT_UNSUPPORTED:
        body[field]["unit"] = rng.choice(_BAD_UNITS[measure])
        if measure is Measure.BLOOD_PRESSURE:
            body["diastolic_blood_pressure"]["unit"] = body[field]["unit"]
    elif how is Malformation.IMPLAUSIBLE_VALUE:
        body[field]["value"] = _implausible(measure, str(body[field]["unit"]), rng)
        if measure is Measure.BLOOD_PRESSURE:
            body["diastolic_blood_pressure"]["value"] = rng.randint(260, 320)
    else:
        when = future_after + timedelta(days=1, minutes=rng.randint(0, 3 * 24 * 60))
        body["effective_time_frame"] = _frame(when)
    return encode(broken)


def _implausible(measure: Measure, unit: str, rng: random.Random) -> float:
    if measure is Measure.BODY_WEIGHT:
        kg = rng.choice((round(rng.uniform(0.5, 4.0), 1), round(rng.uniform(600, 900), 1)))
        return round(kg * _LB_PER_KG, 1) if unit == "lb" else kg
    if measure is Measure.BLOOD_PRESSURE:
        return rng.randint(380, 450)
    if measure is Measure.HEART_RATE:
        return rng.choice((rng.randint(0, 8), rng.randint(350, 500)))
    return rng.randint(120, 180)
