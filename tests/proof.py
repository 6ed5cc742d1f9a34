"""The proof report: one row per fault or abuse test, printed at the end of the run.

A test in ``tests/faults/`` or ``tests/security/`` takes the ``proof`` fixture
and fills its row with what it did and what it counted *in the database*:

    def test_poison(proof: ProofRow, proof_profile: Profile) -> None:
        n = proof_profile.pick(ci=2_000, full=50_000)
        proof.load = f"{n:,} readings, 12 kinds of bad input"
        proof.faults = "none"
        ...
        proof.published, proof.stored = n, count_rows(...)

The outcome (pass/fail) comes from pytest itself. At the end of the session
the rows are printed as one table, followed by each test's notes (figures
that fit no column: catch-up times, memory, resends), and written to
``test-artifacts/proof.md`` and ``proof.json``. ``--proof-profile=full``
runs the documented full loads; the default ``ci`` profile keeps CI fast.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

ProfileName = Literal["ci", "full"]
COLUMNS = (
    ("test", "test"),
    ("load", "load"),
    ("faults", "faults injected"),
    ("published", "published"),
    ("stored", "stored"),
    ("duplicated", "duplicated"),
    ("lost", "lost"),
    ("bad_tried", "bad tried"),
    ("bad_rejected", "bad rejected"),
    ("outcome", "result"),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """The load profile of a run: ``ci`` (default) or ``full``."""

    name: ProfileName

    def pick(self, *, ci: int, full: int) -> int:
        return full if self.name == "full" else ci


@dataclass(slots=True)
class ProofRow:
    """What one test did and counted; ``None`` means "not applicable" (shown as "-")."""

    test: str
    load: str = ""
    faults: str = "none"
    published: int | None = None
    stored: int | None = None
    duplicated: int | None = None
    lost: int | None = None
    bad_tried: int | None = None
    bad_rejected: int | None = None
    outcome: str = "not run"
    notes: list[str] = field(default_factory=list)


class ProofReport:
    """The rows of this session, in the order the tests ran."""

    def __init__(self) -> None:
        self.rows: dict[str, ProofRow] = {}

    def row(self, nodeid: str, name: str) -> ProofRow:
        return self.rows.setdefault(nodeid, ProofRow(test=name))

    def set_outcome(self, nodeid: str, outcome: str) -> None:
        row = self.rows.get(nodeid)
        # A failure in teardown after a passing call still fails the row.
        if row is not None and (row.outcome in ("not run", "pass") or outcome != "pass"):
            row.outcome = outcome

    def table(self) -> str:
        """The rows as a Markdown table."""
        head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
        rule = "|" + "|".join(" --- " for _ in COLUMNS) + "|"
        lines = [head, rule]
        for row in self.rows.values():
            cells = [_cell(getattr(row, name)) for name, _ in COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def notes(self) -> str:
        """Each test's notes as a Markdown list, under the table ("" when none)."""
        lines = [
            f"- {_cell(row.test)}: {'; '.join(row.notes)}"
            for row in self.rows.values()
            if row.notes
        ]
        return "\n".join(["Notes:", "", *lines]) if lines else ""

    def text(self) -> str:
        """The table, then the notes."""
        notes = self.notes()
        return f"{self.table()}\n\n{notes}" if notes else self.table()

    def write(self, directory: Path, *, profile: Profile) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "proof.md"
        path.write_text(f"Profile: {profile.name}\n\n{self.text()}\n", encoding="utf-8")
        rows = [asdict(r) for r in self.rows.values()]
        (directory / "proof.json").write_text(
            json.dumps({"profile": profile.name, "rows": rows}, indent=2), encoding="utf-8"
        )
        return path


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")
