"""Conversions to canonical units: values (``ingest.units``), durations, and times to UTC.

Also the plausibility bounds those values are checked against.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain import CANONICAL_UNIT, SUPPORTED_VERSIONS, Measure, ParsedPoint, RejectionCode
from ingest.limits import PLAUSIBLE
from ingest.normalize import VALUE_FIELD
from ingest.schemas import point_schema
from ingest.units import (
    DURATION_TO_SECONDS,
    MASS_TO_KG,
    TO_CANONICAL,
    duration_seconds,
    from_canonical,
    to_canonical,
)
from ingest.validation import Validator

Code = RejectionCode

FINITE = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
MASS_UNITS = st.sampled_from(sorted(MASS_TO_KG))


@given(FINITE)
def test_pounds_to_kilograms_round_trip(pounds: float) -> None:
    kilograms = to_canonical(Measure.BODY_WEIGHT, pounds, "lb")
    assert kilograms is not None
    assert kilograms == pounds * 0.45359237
    assert from_canonical(Measure.BODY_WEIGHT, kilograms, "lb") == pytest.approx(pounds, rel=1e-12)


@given(FINITE, MASS_UNITS)
def test_every_mass_unit_round_trips(value: float, unit: str) -> None:
    canonical = to_canonical(Measure.BODY_WEIGHT, value, unit)
    assert canonical is not None
    back = from_canonical(Measure.BODY_WEIGHT, canonical, unit)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-300)


@given(FINITE, FINITE, MASS_UNITS)
def test_conversion_keeps_order(a: float, b: float, unit: str) -> None:
    low, high = sorted((a, b))
    converted_low = to_canonical(Measure.BODY_WEIGHT, low, unit)
    converted_high = to_canonical(Measure.BODY_WEIGHT, high, unit)
    assert converted_low is not None
    assert converted_high is not None
    assert converted_low <= converted_high


@pytest.mark.parametrize(
    ("value", "unit", "kilograms"),
    [(1, "kg", 1.0), (1000, "g", 1.0), (16, "oz", 0.45359237), (1, "Ton", 907.18474),
     (1, "Metric Ton", 1000.0), (7000, "gr", 0.45359237), (1e6, "mg", 1.0)],
)  # fmt: skip
def test_known_masses(value: float, unit: str, kilograms: float) -> None:
    assert to_canonical(Measure.BODY_WEIGHT, value, unit) == pytest.approx(kilograms)


def test_pressure_and_identity_units() -> None:
    assert to_canonical(Measure.BLOOD_PRESSURE, 1, "kPa") == pytest.approx(7.50062, rel=1e-6)
    assert to_canonical(Measure.OXYGEN_SATURATION, 97, "%") == 97
    assert to_canonical(Measure.HEART_RATE, 64, "beats/min") == 64
    assert to_canonical(Measure.BODY_WEIGHT, 10, "st") is None


@given(st.floats(min_value=0, max_value=1e9), st.sampled_from(sorted(DURATION_TO_SECONDS)))
def test_durations_scale_linearly(value: float, unit: str) -> None:
    seconds = duration_seconds(value, unit)
    assert seconds is not None
    assert math.isclose(seconds, value * DURATION_TO_SECONDS[unit])
    assert duration_seconds(1, "wk") == 7 * 24 * 3600 == 7 * DURATION_TO_SECONDS["d"]


@pytest.mark.parametrize("unit", ["Mo", "yr"])
def test_calendar_durations_have_no_fixed_length(unit: str) -> None:
    assert duration_seconds(1, unit) is None


def _unit_enums(schema: Any, out: set[str]) -> set[str]:
    """Every enum that constrains a ``unit`` property anywhere in ``schema``."""
    if isinstance(schema, dict):
        unit = schema.get("properties", {}).get("unit")
        if isinstance(unit, dict) and "enum" in unit:
            out.update(unit["enum"])
        for value in schema.values():
            _unit_enums(value, out)
    elif isinstance(schema, list):
        for value in schema:
            _unit_enums(value, out)
    return out


@pytest.mark.parametrize(
    ("measure", "version"),
    [(m, v) for m, versions in SUPPORTED_VERSIONS.items() for v in versions],
)
def test_every_unit_a_schema_allows_is_convertible(measure: Measure, version: str) -> None:
    body = point_schema(measure, version)["properties"]["body"]["allOf"][1]
    fields = [VALUE_FIELD.get(measure, "")] if measure in VALUE_FIELD else [
        "systolic_blood_pressure", "diastolic_blood_pressure"]  # fmt: skip
    for field in fields:
        units = _unit_enums(body["properties"][field], set())
        assert units, field
        assert units <= set(TO_CANONICAL[measure]), units - set(TO_CANONICAL[measure])
    durations = _unit_enums(body["properties"].get("effective_time_frame", {}), set())
    assert durations - set(DURATION_TO_SECONDS) <= {"Mo", "yr"}


def test_bounds_are_in_canonical_units_and_reject_nan() -> None:
    for measure, bounds in PLAUSIBLE.items():
        assert bounds.unit == CANONICAL_UNIT[measure]
        assert math.nan not in bounds
        assert math.inf not in bounds
        assert (bounds.low + bounds.high) / 2 in bounds


# --- times (ingest.normalize through Validator.parse) ----------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5))
AT = "2024-05-01T07:30:00-04:00"  # 11:30 UTC


def point(
    name: str = "heart-rate",
    version: str = "2.0",
    *,
    frame: Any = None,
    **header: Any,
) -> dict[str, Any]:
    """A valid heart-rate (or body-weight) data point with ``frame`` as its time."""
    value = {
        "heart-rate": {"value": 64, "unit": "beats/min"},
        "body-weight": {"value": 70, "unit": "kg"},
    }
    body = {name.replace("-", "_"): value[name], "effective_time_frame": frame or {"date_time": AT}}
    return {
        "header": {
            "id": "hdr-1",
            "creation_date_time": "2024-05-01T11:31:00Z",
            "schema_id": {"namespace": "omh", "name": name, "version": version},
            **header,
        },
        "body": body,
    }


def only_point(payload: Any, now: datetime = NOW) -> ParsedPoint:
    message = VALIDATOR.parse(orjson.dumps(payload), now=now)
    assert message.rejections == ()
    [(_, parsed)] = message.points
    return parsed


def only_rejection(payload: Any, code: RejectionCode) -> str:
    message = VALIDATOR.parse(orjson.dumps(payload), now=NOW)
    assert message.points == ()
    [rejection] = message.rejections
    assert rejection.code == code, rejection
    return rejection.detail


def interval(**fields: Any) -> dict[str, Any]:
    return {"time_interval": fields}


@pytest.mark.parametrize(
    ("version", "frame", "expected"),
    [
        ("2.0", interval(start_date_time=AT, end_date_time="2024-05-01T11:45:00Z"), "11:45"),
        ("2.0", interval(start_date_time=AT, duration={"value": 90, "unit": "sec"}), "11:31:30"),
        ("2.0", interval(end_date_time=AT, duration={"value": 1, "unit": "Mo"}), "11:30"),
        ("2.0", {"date_time": "2024-05-01t11:30:00.25z"}, "11:30:00.250000"),
        ("2.0", {"date_time": "2016-12-31T23:59:60Z"}, "2017-01-01T00:00:00"),
        ("1.0", interval(date="2024-04-30", part_of_day="morning"), "2024-04-30T08:00"),
        ("1.0", interval(date="2024-04-30", part_of_day="afternoon"), "2024-04-30T14:00"),
        ("1.0", interval(date="2024-04-30", part_of_day="evening"), "2024-04-30T20:00"),
        ("1.0", interval(date="2024-04-30", part_of_day="night"), "2024-04-30T02:00"),
        ("1.0", {"date_time": "2024-05-01T07:30:00-0400"}, "11:30"),
    ],
)
def test_measurement_time(version: str, frame: dict[str, Any], expected: str) -> None:
    measured_at = only_point(point(version=version, frame=frame)).measured_at
    assert measured_at.tzinfo is UTC
    assert expected in measured_at.isoformat()


def test_measurement_time_without_a_time_frame_falls_back_to_the_header() -> None:
    payload = point(version="1.0")
    del payload["body"]["effective_time_frame"]
    assert only_point(payload).measured_at == datetime(2024, 5, 1, 11, 31, tzinfo=UTC)
    provenance = {"source_name": "cuff", "source_creation_date_time": "2024-05-01T11:00:00Z"}
    payload["header"]["acquisition_provenance"] = provenance
    assert only_point(payload).measured_at == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("version", "frame", "code"),
    [
        ("2.0", interval(start_date_time=AT, duration={"value": 1, "unit": "yr"}),
         Code.UNIT_UNSUPPORTED),
        ("2.0", interval(start_date_time=AT, end_date_time="2024-05-01T11:00:00Z"),
         Code.IMPLAUSIBLE_VALUE),
        ("2.0", interval(end_date_time=AT, duration={"value": -5, "unit": "min"}),
         Code.IMPLAUSIBLE_VALUE),
        ("2.0", interval(start_date_time=AT, duration={"value": 1e300, "unit": "wk"}),
         Code.SCHEMA_INVALID),
        ("1.0", interval(date="2023-02-29", part_of_day="night"), Code.SCHEMA_INVALID),
        ("1.0", {"date_time": "0001-01-01T00:30:00+01:00"}, Code.SCHEMA_INVALID),
        ("ieee", {"date_time": "2024-05-01T07:30:00-0400"}, Code.SCHEMA_INVALID),  # not hh:mm
        ("ieee", interval(date="2024-04-30", part_of_day="night"), Code.SCHEMA_INVALID),
    ],
)  # fmt: skip
def test_unusable_times(version: str, frame: dict[str, Any], code: RejectionCode) -> None:
    if version == "ieee":  # body-weight 3.0 uses the IEEE 1752.1 time frame
        payload = point("body-weight", "3.0", frame=frame)
    else:
        payload = point(version=version, frame=frame)
    assert "time" in only_rejection(payload, code)


OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
LATEST = datetime.max.replace(tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    # hypothesis takes naive bounds; the values get an offset from OFFSETS.
    st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31), timezones=OFFSETS),  # noqa: DTZ001
    st.sampled_from(["1.0", "2.0"]),  # omh and IEEE 1752.1 date-times
)
def test_date_times_round_trip_to_utc(moment: datetime, version: str) -> None:
    frame = {"date_time": moment.isoformat()}
    payload = point("body-weight", "3.0" if version == "2.0" else "1.0", frame=frame)
    parsed = only_point(payload, now=LATEST)
    assert parsed.measured_at == moment
    assert parsed.measured_at.tzinfo is UTC
