"""The kit's output: a table per message, the checks, a summary, and a JSON report.

>>> from ingest.conformance.models import PointOutcome, Result
>>> row = PointOutcome(None, None, Result.REJECTED, "malformed_json", "not JSON",
...                    "malformed_json", True)
>>> report = Report("offline", (MessageOutcome("scale/bad.json", "SC-1", (row,)),))
>>> print(summary(report))
1 messages, 1 rows: 0 stored, 1 rejected; expectations met 1/1; checks passed 0/0: PASS
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ingest.conformance.models import MessageOutcome, Report, Result

_HEADINGS = ("sample", "device", "point", "result", "code", "expected", "ok")


def table(report: Report) -> str:
    """The per-message table; a failed row is followed by its detail."""
    rows: list[tuple[str, ...]] = []
    details: dict[int, str] = {}
    for message in report.messages:
        for row in message.rows:
            point = "message" if row.index is None else f"[{row.index}] {row.header_id or '-'}"
            rows.append(
                (
                    message.sample, message.serial, point, row.result.value, row.code or "-",
                    row.expected, "pass" if row.passed else "FAIL",
                )
            )  # fmt: skip
            note = row.note or (row.detail if not row.passed else None)
            if note:
                details[len(rows) - 1] = note
        for stray in message.unattributed:
            rows.append((message.sample, message.serial, "?", "rejected", stray.code, "-", "FAIL"))
            details[len(rows) - 1] = f"a rejection matching none of its points: {stray.detail}"
    widths = [
        max(len(heading), *(len(r[i]) for r in rows)) if rows else len(heading)
        for i, heading in enumerate(_HEADINGS)
    ]
    lines = [_line(_HEADINGS, widths), _line(tuple("-" * w for w in widths), widths)]
    for number, cells in enumerate(rows):
        lines.append(_line(cells, widths))
        if number in details:
            lines.append(f"    ↳ {details[number]}")
    return "\n".join(lines)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def checks_text(report: Report) -> str:
    return "\n".join(
        f"{'pass' if check.passed else 'FAIL'}  {check.name}: {check.detail}"
        for check in report.checks
    )


def summary(report: Report) -> str:
    rows = [row for message in report.messages for row in message.rows]
    results = Counter(row.result for row in rows)
    counts = f"{results[Result.STORED]} stored, {results[Result.REJECTED]} rejected"
    if results[Result.VALID]:
        counts += f", {results[Result.VALID]} valid"
    if results[Result.NO_ANSWER]:
        counts += f", {results[Result.NO_ANSWER]} without answer"
    met = sum(1 for message in report.messages if message.passed)
    passed = sum(1 for check in report.checks if check.passed)
    verdict = "PASS" if report.passed else "FAIL"
    return (
        f"{len(report.messages)} messages, {len(rows)} rows: {counts}; "
        f"expectations met {met}/{len(report.messages)}; "
        f"checks passed {passed}/{len(report.checks)}: {verdict}"
    )


def render(report: Report) -> str:
    """Everything a person reads: table, checks, notes and the summary."""
    parts = [f"Lastmile conformance ({report.mode})", ""]
    if report.messages:
        parts += [table(report), ""]
    if report.checks:
        parts += [checks_text(report), ""]
    parts += [f"note: {note}" for note in report.notes]
    parts.append(summary(report))
    return "\n".join(parts)


def as_json(report: Report) -> dict[str, Any]:
    """The machine-readable report."""
    return {
        "mode": report.mode,
        "passed": report.passed,
        "messages": [_message(message) for message in report.messages],
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in report.checks],
        "notes": list(report.notes),
    }


def _message(message: MessageOutcome) -> dict[str, Any]:
    return {
        "sample": message.sample,
        "device_serial": message.serial,
        "passed": message.passed,
        "points": [
            {
                "index": row.index,
                "header_id": row.header_id,
                "result": row.result.value,
                "code": row.code,
                "detail": row.detail,
                "expected": row.expected,
                "passed": row.passed,
                "note": row.note,
            }
            for row in message.rows
        ],
        "unattributed": [{"code": a.code, "detail": a.detail} for a in message.unattributed],
    }


def write_json(report: Report, path: Path) -> None:
    path.write_bytes(orjson.dumps(as_json(report), option=orjson.OPT_INDENT_2) + b"\n")
