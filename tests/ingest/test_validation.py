"""``ingest.validation.Validator``: message rules, normalization, and properties."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain import (
    SUPPORTED_VERSIONS,
    Measure,
    Modality,
    ParsedMessage,
    ParsedPoint,
    RejectionCode,
)
from ingest.exceptions import ValidatorUsageError
from ingest.schemas import fast_predicate, reference_validator
from ingest.validation import Validator, explain

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TOLERANCE = timedelta(minutes=5)
VALIDATOR = Validator(future_tolerance=TOLERANCE)
AT = "2024-05-01T07:30:00-04:00"  # 11:30 UTC
Code = RejectionCode


def point(
    name: str = "heart-rate",
    version: str = "2.0",
    body: dict[str, Any] | None = None,
    *,
    frame: dict[str, Any] | None = None,
    header_id: Any = "hdr-1",
    **header: Any,
) -> dict[str, Any]:
    """A valid data point (a heart rate by default); ``body`` replaces the body."""
    if body is None:
        body = {"heart_rate": {"value": 64, "unit": "beats/min"}}
        body["effective_time_frame"] = frame or {"date_time": AT}
    return {
        "header": {
            "id": header_id,
            "creation_date_time": "2024-05-01T11:31:00Z",
            "schema_id": {"namespace": "omh", "name": name, "version": version},
            **header,
        },
        "body": body,
    }


def bp(systolic: Any = 128, diastolic: Any = 82, version: str = "4.0", **extra: Any) -> Any:
    body = {
        "systolic_blood_pressure": {"value": systolic, "unit": "mmHg"},
        "diastolic_blood_pressure": {"value": diastolic, "unit": "mmHg"},
        "effective_time_frame": {"date_time": AT},
        **extra,
    }
    return point("blood-pressure", version, body)


def parse(payload: Any, validator: Validator = VALIDATOR) -> ParsedMessage:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return validator.parse(raw, now=NOW)


def only_point(payload: Any) -> ParsedPoint:
    message = parse(payload)
    assert message.rejections == ()
    [(index, parsed)] = message.points
    assert index == 0
    return parsed


def only_rejection(payload: Any, code: RejectionCode, index: int | None = 0) -> str:
    message = parse(payload)
    assert message.points == ()
    [rejection] = message.rejections
    assert (rejection.code, rejection.index) == (code, index), rejection
    return rejection.detail


def test_blood_pressure_point() -> None:
    parsed = only_point(bp(body_posture="sitting"))
    assert parsed == ParsedPoint(
        measure=Measure.BLOOD_PRESSURE,
        schema_version="4.0",
        measured_at=datetime(2024, 5, 1, 11, 30, tzinfo=UTC),
        value=128.0,
        value2=82.0,
        original_value=128.0,
        original_value2=82.0,
        original_unit="mmHg",
        modality=Modality.SENSED,
        header_id="hdr-1",
    )


@pytest.mark.parametrize("activity", ["at rest", "during exercise", None])
def test_the_activity_of_a_heart_rate_is_kept(activity: str | None) -> None:
    body: dict[str, Any] = {
        "heart_rate": {"value": 131, "unit": "beats/min"},
        "effective_time_frame": {"date_time": AT},
    }
    if activity is not None:
        body["temporal_relationship_to_physical_activity"] = activity
    assert only_point(point(body=body)).activity == activity


def test_weight_in_pounds_is_stored_in_kilograms() -> None:
    body = {
        "body_weight": {"value": 182.4, "unit": "lb"},
        "effective_time_frame": {"date_time": AT},
    }
    parsed = only_point(point("body-weight", "3.0", body))
    assert parsed.value == pytest.approx(82.7352483)
    assert (parsed.original_value, parsed.original_unit, parsed.value2) == (182.4, "lb", None)


def test_self_reported_modality() -> None:
    provenance = {"source_name": "app", "modality": "self-reported"}
    assert only_point(point(acquisition_provenance=provenance)).modality is Modality.SELF_REPORTED


@pytest.mark.parametrize("payload", [b"", b"{", b"\xff\xfe{}", b'{"a": NaN}', b"[1,]"])
def test_malformed_json(payload: bytes) -> None:
    assert only_rejection(payload, Code.MALFORMED_JSON, None)


@pytest.mark.parametrize("payload", [b"[]", b"1", b'"x"', b"null", b"true"])
def test_top_level_must_be_object_or_non_empty_array(payload: bytes) -> None:
    assert only_rejection(payload, Code.SCHEMA_INVALID, None)


def test_payload_limits() -> None:
    small = Validator(future_tolerance=TOLERANCE, max_points=2, max_bytes=2000)
    message = parse([point()] * 3, small)
    [rejection] = message.rejections
    assert (rejection.code, rejection.index, message.points) == (Code.PAYLOAD_TOO_LARGE, None, ())
    assert "limit of 2" in rejection.detail
    [rejection] = parse([point()] * 9, small).rejections
    assert (rejection.code, rejection.index) == (Code.PAYLOAD_TOO_LARGE, None)
    assert "2000 bytes" in rejection.detail
    assert len(parse([point()] * 2, small).points) == 2


def test_array_keeps_indices_and_stores_the_good_points() -> None:
    unsupported = point("step-count", "3.0")
    late = point(frame={"date_time": "2024-05-01T12:05:01Z"})
    payload = [
        point(header_id="a"),
        {"header": 1},
        point(header_id="c"),
        unsupported,
        bp(301, 82),
        late,
    ]
    message = parse(payload)
    assert [(i, p.header_id) for i, p in message.points] == [(0, "a"), (2, "c")]
    assert [(r.index, r.code) for r in message.rejections] == [
        (1, Code.SCHEMA_INVALID),
        (3, Code.SCHEMA_UNSUPPORTED),
        (4, Code.IMPLAUSIBLE_VALUE),
        (5, Code.TIME_IN_FUTURE),
    ]
    assert [r.header_id for r in message.rejections] == [None, "hdr-1", "hdr-1", "hdr-1"]


@pytest.mark.parametrize(
    ("namespace", "name", "version"),
    [("granola", "heart-rate", "2.0"), ("omh", "step-count", "3.0"), ("omh", "heart-rate", "9.9")],
)
def test_unsupported_schema(namespace: str, name: str, version: str) -> None:
    payload = point(name, version)
    payload["header"]["schema_id"]["namespace"] = namespace
    assert f"{namespace}:{name}:{version}" in only_rejection(payload, Code.SCHEMA_UNSUPPORTED)


@pytest.mark.parametrize(
    ("header_id", "expected"), [("kept", "kept"), (17, None), (None, None), (["x"], None)]
)
def test_header_id_is_reported_when_it_is_a_string(header_id: Any, expected: Any) -> None:
    payload = point(header_id=header_id)
    del payload["header"]["creation_date_time"]
    [rejection] = parse(payload).rejections
    assert (rejection.code, rejection.header_id) == (Code.SCHEMA_INVALID, expected)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p["header"].pop("creation_date_time"), "header: missing required creation"),
        (lambda p: p["header"]["schema_id"].update(version=2), "header.schema_id.version"),
        (lambda p: p["body"].pop("effective_time_frame"), "body: missing required effective"),
        (lambda p: p["body"]["heart_rate"].update(value="64"), "heart_rate.value: must be of type"),
        (lambda p: p["body"]["heart_rate"].update(unit="bpm"), "allowed values (beats/min)"),
        (lambda p: p["body"].update(effective_time_frame={"date_time": "2024-05-01T07:30:00"}),
         "date_time: must be an RFC 3339 date-time"),
    ],
)  # fmt: skip
def test_schema_violations_say_which_field_and_why(mutate: Any, words: str) -> None:
    payload = point()
    mutate(payload)
    assert words in only_rejection(payload, Code.SCHEMA_INVALID)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (point("body-weight", "3.0", {"body_weight": {"value": 30, "unit": "lb"},
                                      "effective_time_frame": {"date_time": AT}}), "20-350 kg"),
        (bp(300.5, 82), "40-300 mmHg"),
        (bp(128, 10), "20-200 mmHg"),
        (bp(90, 90), "not above diastolic"),
        (point("oxygen-saturation", "2.0", {"oxygen_saturation": {"value": 100.5, "unit": "%"},
                                            "effective_time_frame": {"date_time": AT}}),
         "50-100 %"),
        (point("heart-rate", "2.0", {"heart_rate": {"value": 1e300, "unit": "beats/min"},
                                     "effective_time_frame": {"date_time": AT}}),
         "beats/min"),
    ],
)  # fmt: skip
def test_implausible_values(payload: Any, detail: str) -> None:
    assert detail in only_rejection(payload, Code.IMPLAUSIBLE_VALUE)


def test_usage_errors() -> None:
    with pytest.raises(ValidatorUsageError):
        VALIDATOR.parse(b"{}", now=datetime(2024, 5, 1))  # noqa: DTZ001
    with pytest.raises(ValidatorUsageError):
        Validator(future_tolerance=timedelta(seconds=-1))
    assert parse(b"{}").rejections  # a far-future now does not overflow:
    assert Validator(future_tolerance=timedelta(days=1)).parse(
        b"{}", now=datetime.max.replace(tzinfo=UTC)
    )


# --- properties -----------------------------------------------------------


def interval(**fields: Any) -> dict[str, Any]:
    return {"time_interval": fields}


VALID_POINTS = [
    point(),
    point(version="1.0", frame=interval(date="2024-04-30", part_of_day="evening")),
    point(version="1.1", frame=interval(end_date_time=AT, duration={"value": 2, "unit": "h"})),
    bp(body_posture="sitting", descriptive_statistic="average"),
    bp(version="1.0", position_during_measurement="sitting"),
    bp(version="3.1", temporal_relationship_to_physical_activity="at rest"),
    point("body-weight", "1.0", {"body_weight": {"value": 70, "unit": "kg"}}),
    point("body-weight", "3.0", {"body_weight": {"value": 70, "unit": "kg"},
                                 "effective_time_frame": interval(start_date_time=AT,
                                                                  end_date_time=AT)}),
    point("oxygen-saturation", "2.0", {"oxygen_saturation": {"value": 97, "unit": "%"},
                                       "effective_time_frame": {"date_time": AT},
                                       "supplemental_oxygen_flow_rate": {"value": 2,
                                                                         "unit": "L/min"}},
          acquisition_provenance={"source_name": "ox", "modality": "sensed"}),
]  # fmt: skip
assert all(parse(p).points for p in VALID_POINTS)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)  # fmt: skip
TOKENS = st.sampled_from(
    ["kg", "lb", "st", "mmHg", "kPa", "%", "beats/min", "L/min", "sec", "Mo", "h", "sitting",
     "morning", "night", "sensed", "recorded", "omh", "2.0", "1.0", "heart-rate", "average",
     "2024-05-01T07:30:00Z", "2024-05-01T07:30:00+0100", "2024-02-30T07:30:00Z", "2024-05-01",
     "2024-05-01T25:30:00Z", "2024-05-01T07:30:00.5-04:00", "", "2016-12-31T23:59:60Z"]
)  # fmt: skip
SHAPES = st.sampled_from(
    [{}, [], {"date_time": AT}, interval(start_date_time=AT, end_date_time=AT),
     {"value": 1, "unit": "d"}, {"value": 70, "unit": "kg"}, {"source_name": "x"}]
)  # fmt: skip
VALUES = TOKENS | SHAPES | JSON | st.integers(-5, 400) | st.floats(-1e3, 1e3)
KEYS = st.sampled_from(["date_time", "time_interval", "duration", "start_date_time",
                        "end_date_time", "date", "part_of_day", "unit", "value", "modality",
                        "id", "body_posture", "effective_time_frame", "x"])  # fmt: skip


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        out.append((node, key))
        _slots(value, out)
    return out


@st.composite
def mutated_points(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(VALID_POINTS)))
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(data, dict) or not _slots(data, []):
            break
        container, key = draw(st.sampled_from(_slots(data, [])))
        action = draw(st.sampled_from(["replace", "delete", "add", "version"]))
        if action == "replace":
            container[key] = copy.deepcopy(draw(VALUES))
        elif action == "delete":
            del container[key]
        elif action == "add" and isinstance(container[key], dict):
            container[key][draw(KEYS)] = copy.deepcopy(draw(VALUES))
        elif action == "version" and isinstance(data.get("header"), dict):
            name = draw(st.sampled_from(list(Measure)))
            version = draw(st.sampled_from(SUPPORTED_VERSIONS[name]))
            data["header"]["schema_id"] = {
                "namespace": "omh",
                "name": name.value,
                "version": version,
            }
    return data


def _supported(data: Any) -> tuple[Measure, str] | None:
    try:
        schema_id = data["header"]["schema_id"]
        measure, version = Measure(schema_id["name"]), schema_id["version"]
    except (KeyError, TypeError, ValueError):
        return None
    ok = schema_id.get("namespace") == "omh" and version in SUPPORTED_VERSIONS[measure]
    return (measure, version) if ok else None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_points())
def test_fast_path_agrees_with_fastjsonschema(data: Any) -> None:
    assert fast_predicate(None, None)(data) is (
        explain(reference_validator(None, None), data) is None
    )
    key = _supported(data)
    if key is not None:
        assert fast_predicate(*key)(data) is (explain(reference_validator(*key), data) is None)


@settings(max_examples=300, deadline=None)
@given(mutated_points())
def test_mutated_points_parse_without_raising(data: Any) -> None:
    message = parse([data, data])
    assert len(message.points) + len(message.rejections) == 2
    assert all(r.index in (0, 1) and r.detail for r in message.rejections)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | JSON.map(orjson.dumps))
def test_parse_never_raises_on_arbitrary_payloads(payload: bytes) -> None:
    message = VALIDATOR.parse(payload, now=NOW)
    assert message.points or message.rejections
    assert all(isinstance(r.code, RejectionCode) and r.detail for r in message.rejections)


SECRET = "Jane-Doe-0042"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID_POINTS), st.data())
def test_details_never_echo_values(base: Any, data: st.DataObject) -> None:
    payload = copy.deepcopy(base)
    container, key = data.draw(st.sampled_from(_slots(payload, [])))
    container[key] = data.draw(st.sampled_from([SECRET, 987.654321, {"x": SECRET}, [SECRET]]))
    for rejection in parse(payload).rejections:
        if rejection.code is not Code.SCHEMA_UNSUPPORTED:  # that one names the schema id
            assert SECRET not in rejection.detail
            assert "987.65" not in rejection.detail
