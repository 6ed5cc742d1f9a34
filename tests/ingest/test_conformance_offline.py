"""Open mHealth conformance data, run offline through ``Validator.parse``.

Measure cases: each ``shouldPass`` file of a supported measure/version is a
body; wrapped in a valid header it must parse to exactly one point, and each
``shouldFail`` body must be rejected with a code and no point.

Component cases (header, data-point, date-time, time-frame, time-interval)
are embedded in a carrier data point in the place they describe, so the
bundled copies of those schemas and the IEEE 1752.1 ones are held to the same
data. Every case also checks that the fast path and the fastjsonschema
reference agree.

No case needs a special ``now``: all effective times are in 2013-2020.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.domain import SUPPORTED_VERSIONS, Measure, RejectionCode
from ingest.exceptions import SchemaLoadError
from ingest.fastcheck import compile_predicate
from ingest.schemas import (
    SCHEMA_ROOT,
    SchemaBundle,
    fast_predicate,
    reference_validator,
    schema_file,
)
from ingest.units import to_canonical
from ingest.validation import Validator, explain

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
TEST_DATA = CONFORMANCE / "openmhealth" / "test-data" / "omh"
NOW = datetime(2025, 1, 1, tzinfo=UTC)
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5))
#: Honest codes for a shouldFail body.
FAIL_CODES = {
    RejectionCode.SCHEMA_INVALID,
    RejectionCode.UNIT_UNSUPPORTED,
    RejectionCode.IMPLAUSIBLE_VALUE,
}
#: schema-valid cases the hub still refuses, and why (see ingest.normalize).
REFUSED_SCHEMA_VALID = {
    "time-interval/1.0/shouldPass/start-time-later-than-end-time": (
        RejectionCode.IMPLAUSIBLE_VALUE
    ),
    # its time interval ends three years before it starts
    "body-temperature/4.0/shouldPass/valid-temperature-with-statistic": (
        RejectionCode.IMPLAUSIBLE_VALUE
    ),
}


def _cases(*components: str) -> list[Any]:
    if not TEST_DATA.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{TEST_DATA} is absent"))]
    found = []
    for component in components:
        for path in sorted((TEST_DATA / component).glob("*/should*/*.json")):
            case = path.relative_to(TEST_DATA).with_suffix("").as_posix()
            found.append(pytest.param(path, id=case))
    return found


def _measure_cases() -> list[Any]:
    return [
        case
        for case in _cases(*(m.value for m in Measure))
        if case.values[0] is None
        or case.values[0].parts[-3] in SUPPORTED_VERSIONS[Measure(case.values[0].parts[-4])]
    ]


def data_point(name: str, version: str, body: Any, case: str) -> dict[str, Any]:
    return {
        "header": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, case)),
            "creation_date_time": "2024-01-01T00:00:00Z",
            "schema_id": {"namespace": "omh", "name": name, "version": version},
        },
        "body": body,
    }


def check_agreement(measure: Measure | None, version: str | None, point: Any) -> bool:
    """The fast path and fastjsonschema agree on ``point``; returns validity."""
    valid = explain(reference_validator(measure, version), point) is None
    assert fast_predicate(measure, version)(point) is valid
    return valid


def check(point: dict[str, Any], should_pass: bool, case: str) -> None:
    schema_id = point["header"]["schema_id"]
    measure, version = Measure(schema_id["name"]), schema_id["version"]
    schema_valid = check_agreement(measure, version, point)
    message = VALIDATOR.parse(orjson.dumps(point), now=NOW)
    refused = REFUSED_SCHEMA_VALID.get(case)
    if should_pass and refused is None:
        assert schema_valid
        assert message.rejections == ()
        [(index, parsed)] = message.points
        assert index == 0
        assert parsed.measure is measure
        assert parsed.schema_version == version
        assert parsed.header_id == point["header"]["id"]
        assert parsed.measured_at.tzinfo is UTC
        unit = parsed.original_unit
        if parsed.value2 is not None:  # blood pressure: "<systolic>[/<diastolic>]"
            unit = unit.split("/")[0]
        assert parsed.value == to_canonical(measure, parsed.original_value, unit)
    else:
        assert message.points == ()
        [rejection] = message.rejections
        assert rejection.index == 0
        assert rejection.code in ({refused} if refused else FAIL_CODES)
        assert rejection.header_id == point["header"].get("id")
        assert rejection.detail
        assert schema_valid is (refused is not None)


@pytest.mark.parametrize("path", _measure_cases())
def test_measure_case(path: Path) -> None:
    measure, version, kind = path.parts[-4], path.parts[-3], path.parts[-2]
    case = path.relative_to(TEST_DATA).with_suffix("").as_posix()
    body = orjson.loads(path.read_bytes())
    check(data_point(measure, version, body, case), kind == "shouldPass", case)


# Carriers: a valid heart-rate body per time-frame flavour.
OMH_CARRIER = ("heart-rate", "1.0")  # omh time-frame/time-interval/date-time 1.0
IEEE_CARRIER = ("body-weight", "3.0")  # IEEE 1752.1 time-frame/time-interval/date-time
CARRIER_BODY: dict[str, dict[str, Any]] = {
    "heart-rate": {"heart_rate": {"value": 60, "unit": "beats/min"}},
    "body-weight": {"body_weight": {"value": 60, "unit": "kg"}},
}


def _embedded(component: str, carrier: tuple[str, str], content: Any) -> dict[str, Any]:
    name, version = carrier
    body = copy.deepcopy(CARRIER_BODY[name])
    frame: Any = {"date_time": "2013-02-05T07:25:00Z"}
    if component == "date-time":
        frame = {"date_time": content}
    elif component == "time-frame":
        frame = content
    elif component == "time-interval":
        frame = {"time_interval": content}
    body["effective_time_frame"] = frame
    point = data_point(name, version, body, component)
    if component == "header":
        # The cases name physical-activity; point them at the carrier.
        point["header"] = {**content, "schema_id": point["header"]["schema_id"]}
    return point


@pytest.mark.parametrize("path", _cases("header", "date-time", "time-frame", "time-interval"))
def test_component_case_in_omh_schemas(path: Path) -> None:
    component, kind = path.parts[-4], path.parts[-2]
    case = path.relative_to(TEST_DATA).with_suffix("").as_posix()
    point = _embedded(component, OMH_CARRIER, orjson.loads(path.read_bytes()))
    check(point, kind == "shouldPass", case)


@pytest.mark.parametrize("path", _cases("date-time", "time-frame", "time-interval"))
def test_component_case_in_ieee_schemas(path: Path) -> None:
    component, kind = path.parts[-4], path.parts[-2]
    case = path.relative_to(TEST_DATA).with_suffix("").as_posix()
    content = orjson.loads(path.read_bytes())
    should_pass = kind == "shouldPass"
    if isinstance(content, dict) and "part_of_day" in content:
        should_pass = False  # IEEE 1752.1 has no date + part-of-day interval
    check(_embedded(component, IEEE_CARRIER, content), should_pass, case)


@pytest.mark.parametrize("path", _cases("data-point"))
def test_data_point_case(path: Path) -> None:
    # The cases carry an unsupported physical-activity body: check the
    # data-point/header schema alone, in both compiled forms.
    valid = check_agreement(None, None, orjson.loads(path.read_bytes()))
    assert valid is (path.parts[-2] == "shouldPass")


def test_bundled_omh_schemas_are_unchanged_copies() -> None:
    source = CONFORMANCE / "openmhealth" / "schema" / "omh"
    if not source.is_dir():
        pytest.skip(f"{source} is absent")
    bundled = sorted((SCHEMA_ROOT / "omh").glob("*.json"))
    assert bundled
    for path in bundled:
        assert path.read_bytes() == (source / path.name).read_bytes(), path.name


def test_bundle_holds_exactly_the_reference_closure() -> None:
    bundle = SchemaBundle()
    bundle.inlined("omh/data-point-1.0.json")
    for measure, versions in SUPPORTED_VERSIONS.items():
        for version in versions:
            bundle.inlined(schema_file(measure, version))
    on_disk = {
        path.relative_to(SCHEMA_ROOT).as_posix()
        for path in SCHEMA_ROOT.glob("*/*.json")
        if not path.name.endswith(".x.json")  # aliases, followed on the way
    }
    assert on_disk == set(bundle.loaded())


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"omh/a.json": '{"$ref": "https://example.com/x.json"}'}, "leaves the bundle"),
        ({"omh/a.json": '{"$ref": "#/definitions/missing"}'}, "points nowhere"),
        ({"omh/a.json": '{"$ref": "a.json"}'}, "recursive"),
        ({"omh/a.json": "b-1.x.json", "omh/b-1.x.json": "a.json"}, "alias loop"),
        ({"omh/a.json": '{"type": "object", "additionalProperties": false}'}, "not vetted"),
        ({"omh/a.json": '{"$ref": "../../etc/passwd"}'}, "outside the bundle"),
        ({"omh/a.json": "{nope"}, "not JSON"),
    ],
)
def test_schema_loader_refuses_what_it_cannot_vouch_for(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(SchemaLoadError, match=message):
        SchemaBundle(tmp_path).inlined("omh/a.json")


def test_schema_loader_resolves_by_file_not_by_id(tmp_path: Path) -> None:
    # body-weight-3.0 upstream carries the $id of 2.0: the file must win.
    same_id = '"$id": "https://w3id.org/openmhealth/schemas/omh/m-2.json"'
    ieee = "https://w3id.org/ieee/ieee-1752-schema/t.json"
    write(
        tmp_path, "omh/m-2.json", f'{{{same_id}, "properties": {{"t": {{"$ref": "t-1.x.json"}}}}}}'
    )
    write(tmp_path, "omh/m-3.json", f'{{{same_id}, "properties": {{"t": {{"$ref": "{ieee}"}}}}}}')
    write(tmp_path, "omh/t-1.x.json", "t-1.0.json")
    write(tmp_path, "omh/t-1.0.json", '{"enum": ["omh"]}')
    write(tmp_path, "ieee-1752/t.json", '{"enum": ["ieee"]}')
    bundle = SchemaBundle(tmp_path)
    assert bundle.inlined("omh/m-3.json") == {"properties": {"t": {"enum": ["ieee"]}}}
    assert bundle.inlined("omh/m-2.json") == {"properties": {"t": {"enum": ["omh"]}}}


def test_fast_path_refuses_unvetted_keywords() -> None:
    with pytest.raises(SchemaLoadError):
        compile_predicate({"type": "integer"})
    with pytest.raises(SchemaLoadError):
        compile_predicate({"enum": [1, 2]})
    with pytest.raises(SchemaLoadError):
        compile_predicate({"dependencies": {}})
