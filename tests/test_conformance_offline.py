"""The conformance kit offline: sample files through the hub's own Validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from hub.domain import SUPPORTED_VERSIONS, Measure, RejectionCode
from ingest.conformance.cli import conformance
from ingest.conformance.samples import shipped_samples
from lastmile.cli import main
from tests.conformance_support import REFUSED_SHOULD_PASS, invoke_kit, rows
from tests.conftest import conformance_dir
from tests.support import now_minus, weight_point, wrap_body


@pytest.fixture
def report_path(tmp_path: Path) -> Path:
    return tmp_path / "report.json"


def run_offline(
    report_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any] | None]:
    result, data = invoke_kit(report_path, "--offline", *args, env=env)
    return result.exit_code, result.output, data


def test_the_shipped_samples_pass_offline_and_cover_every_measure_and_version(
    report_path: Path,
) -> None:
    code, output, report = run_offline(report_path)
    assert code == 0, output
    assert report is not None
    assert report["passed"]
    covered = set()
    for path in shipped_samples().glob("*/*.json"):
        if ".expect" in path.name:
            continue
        document = orjson.loads(path.read_bytes())
        for point in document if isinstance(document, list) else [document]:
            schema = point["header"]["schema_id"]
            covered.add((schema["name"], schema["version"]))
    wanted = {(m.value, v) for m in Measure for v in SUPPORTED_VERSIONS[m]}
    assert covered == wanted
    # Registry codes cannot be decided offline; the report says so.
    unknown = [r for r in rows(report) if r[0].endswith("expect-unknown_device.json")]
    assert unknown == [(unknown[0][0], "valid", None, True)]
    assert "not checked offline" in output
    assert "device registry" in report["notes"][0]


def test_the_command_is_part_of_the_lastmile_cli() -> None:
    result = CliRunner().invoke(main, ["conformance", "--offline", str(shipped_samples())])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("PASS")


def test_openmhealth_conformance_data_passes_and_fails_offline(
    tmp_path: Path, report_path: Path
) -> None:
    """Every shouldPass case is valid; every shouldFail one is rejected with a code."""
    base = conformance_dir() / "openmhealth" / "test-data" / "omh"
    good, bad = tmp_path / "good" / "dev", tmp_path / "bad" / "dev"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    for measure in Measure:
        for version in SUPPORTED_VERSIONS[measure]:
            for should, folder in (("shouldPass", good), ("shouldFail", bad)):
                for case in sorted((base / measure.value / version / should).glob("*.json")):
                    if f"{measure.value}/{version}/{case.stem}" in REFUSED_SHOULD_PASS:
                        continue
                    point = wrap_body(json.loads(case.read_text()), measure.value, version)
                    name = f"{measure.value}-{version}-{case.stem}.json"
                    (folder / name).write_text(json.dumps(point))
    # The Open mHealth cases are dated 2013-2016, past the hub's default
    # maximum age of a reading (time_too_old); this test is about the schemas.
    ages = {"LASTMILE_MAX_READING_AGE_DAYS": str(100 * 366)}
    code, output, report = run_offline(report_path, str(tmp_path / "good"), env=ages)
    assert code == 0, output
    assert report is not None
    assert len(report["messages"]) == len(list(good.iterdir())) > 30
    code, output, report = run_offline(report_path, str(tmp_path / "bad"), env=ages)
    assert code == 1, output
    assert report is not None
    found = rows(report)
    assert len(found) == len(list(bad.iterdir())) > 20
    assert all(result == "rejected" and not passed for _, result, _, passed in found)
    assert {code for *_, code, _ in found} <= {c.value for c in RejectionCode}


def test_a_bad_set_fails_with_the_codes_and_expectations_decide(
    tmp_path: Path, report_path: Path
) -> None:
    folder = tmp_path / "SC-1"
    folder.mkdir()
    at = now_minus(hours=1)
    (folder / "bad-unit.json").write_bytes(orjson.dumps(weight_point(80, at, unit="stone")))
    (folder / "future.expect-time_in_future.json").write_bytes(
        orjson.dumps(weight_point(80, now_minus(hours=-3)))
    )
    (folder / "too-many.json").write_bytes(orjson.dumps([weight_point(80, at)] * 501))
    (folder / "empty.expect-schema_invalid.json").write_bytes(b"[]")
    mixed = [weight_point(80, at, header_id="ok"), weight_point(1, at, header_id="light")]
    (folder / "mixed.json").write_bytes(orjson.dumps(mixed))
    (folder / "mixed.expect.json").write_text('{"points": {"light": "implausible_value"}}')
    code, output, report = run_offline(report_path, "--samples", str(tmp_path))
    assert code == 1, output
    assert report is not None
    assert rows(report) == [
        ("SC-1/bad-unit.json", "rejected", "schema_invalid", False),
        ("SC-1/empty.expect-schema_invalid.json", "rejected", "schema_invalid", True),
        ("SC-1/future.expect-time_in_future.json", "rejected", "time_in_future", True),
        ("SC-1/mixed.json", "valid", None, True),
        ("SC-1/mixed.json", "rejected", "implausible_value", True),
        ("SC-1/too-many.json", "rejected", "payload_too_large", False),
    ]
    assert "FAIL" in output.splitlines()[-1]


def test_device_folders_map_to_serials_and_files_can_be_named_one_by_one(
    tmp_path: Path, report_path: Path
) -> None:
    folder = tmp_path / "scale"
    folder.mkdir()
    sample = folder / "w.json"
    sample.write_bytes(orjson.dumps(weight_point(80, now_minus(hours=1))))
    code, output, report = run_offline(report_path, str(sample), "--device", "scale=SC-00042")
    assert code == 0, output
    assert report is not None
    assert [m["device_serial"] for m in report["messages"]] == ["SC-00042"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"d/x.expect-no_such_code.json": "{}"}, "neither 'stored' nor a rejection code"),
        ({"d/x.json": "{}", "d/x.expect.json": "[1]"}, "expected"),
        ({"loose.json": "{}"}, "no <device>/<name>.json"),
    ],
)
def test_unusable_samples_are_a_usage_error(
    files: dict[str, str], message: str, tmp_path: Path, report_path: Path
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    code, output, report = run_offline(report_path, str(tmp_path))
    assert code == 2
    assert message in output
    assert report is None


def test_online_needs_a_gateway_id() -> None:
    result = CliRunner().invoke(conformance, [str(shipped_samples())])
    assert result.exit_code == 2
    assert "--gateway-id" in result.output
