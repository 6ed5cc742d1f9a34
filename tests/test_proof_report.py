"""The proof report (tests/proof.py): the table issue #7 asks for, and its notes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.proof import Profile, ProofReport


def test_the_table_has_a_row_per_test_and_the_notes_follow_it(tmp_path: Path) -> None:
    report = ProofReport()
    row = report.row("tests/faults/test_x.py::test_set", "set")
    row.load, row.faults = "10,000 readings | 10 gateways", "worker SIGKILL x3"
    row.published, row.stored, row.duplicated, row.lost = 10_000, 10_000, 0, 0
    row.notes.append("caught up in 12 s")
    report.row("tests/security/test_y.py::test_fuzz", "fuzz").bad_tried = 20_000
    report.set_outcome("tests/faults/test_x.py::test_set", "pass")
    report.set_outcome("tests/security/test_y.py::test_fuzz", "FAIL")
    # A teardown that passes after a failing call does not turn the row green.
    report.set_outcome("tests/security/test_y.py::test_fuzz", "pass")
    lines = report.table().splitlines()
    assert lines[0].startswith("| test | load | faults injected | published | stored |")
    assert lines[2] == (
        "| set | 10,000 readings \\| 10 gateways | worker SIGKILL x3 | 10,000 | 10,000 | 0 | 0"
        " | - | - | pass |"
    )
    assert lines[3].endswith("| 20,000 | - | FAIL |")
    assert report.notes().splitlines()[-1] == "- set: caught up in 12 s"
    path = report.write(tmp_path, profile=Profile("full"))
    text = path.read_text()
    assert text.startswith("Profile: full\n")
    assert text.index("| set |") < text.index("- set: caught up in 12 s")
    saved = json.loads((tmp_path / "proof.json").read_text())
    assert saved["profile"] == "full"
    assert [r["outcome"] for r in saved["rows"]] == ["pass", "FAIL"]


def test_no_notes_no_section() -> None:
    report = ProofReport()
    report.row("t::a", "a")
    assert report.notes() == ""
    assert report.text() == report.table()
