"""Running ``lastmile conformance`` in tests, with its JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from ingest.conformance.cli import conformance


def invoke_kit(
    report: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[Result, dict[str, Any] | None]:
    """The kit's result and its JSON report (None when it wrote none)."""
    result = CliRunner().invoke(
        conformance, ["--json", str(report), *args], env=env, catch_exceptions=False
    )
    data = json.loads(report.read_text()) if report.exists() else None
    return result, data


def rows(report: dict[str, Any]) -> list[tuple[str, str, str | None, bool]]:
    """(sample, result, code, passed) of every row of a JSON report."""
    return [
        (m["sample"], p["result"], p["code"], p["passed"])
        for m in report["messages"]
        for p in m["points"]
    ]


#: Open mHealth shouldPass cases the hub refuses on purpose, by
#: ``<measure>/<version>/<case>``: the time interval ends before it starts
#: (``implausible_value``, see ``ingest.normalize``).
REFUSED_SHOULD_PASS = frozenset({"body-temperature/4.0/valid-temperature-with-statistic"})
