"""The export's two formats, written the same way every time.

JSON (``lastmile-billing/1``) is canonical: the envelope's keys in a fixed
order, then one row per line, each with its keys sorted, UTF-8, no spaces::

    {"format":"lastmile-billing/1","month":"2026-03","scope":"all","rows":[
    {...},
    {...}
    ]}

so equal rows give equal bytes, and the bytes can be written as the rows
come (a month of 100,000 patients is never held whole). CSV is made from
the JSON rows (so from a signed month's stored bytes as well): one line per
row, lists joined with ``;``, RFC 4180 quoting.

    >>> out = io.BytesIO()
    >>> with JsonWriter(out, month="2026-03", scope="all") as w:
    ...     w.write({"b": 1, "a": [2]})
    >>> out.getvalue()
    b'{"format":"lastmile-billing/1","month":"2026-03","scope":"all","rows":[\\n{"a":[2],"b":1}\\n]}\\n'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import IO, Any, Self

import orjson

__all__ = ["CSV_COLUMNS", "FORMAT", "JsonWriter", "csv_bytes", "document_rows", "write_csv"]

FORMAT = "lastmile-billing/1"


class JsonWriter:
    """Writes the canonical JSON document to a binary stream, a row at a time."""

    def __init__(self, out: IO[bytes], *, month: str, scope: str) -> None:
        self._out = out
        self._head = orjson.dumps({"format": FORMAT, "month": month, "scope": scope})[:-1]
        self.rows = 0

    def __enter__(self) -> Self:
        self._out.write(self._head + b',"rows":[')
        return self

    def write(self, row: Mapping[str, Any]) -> None:
        self._out.write(b"\n" if self.rows == 0 else b",\n")
        self._out.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS))
        self.rows += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self._out.write(b"\n]}\n" if self.rows else b"]}\n")


def document_rows(document: bytes) -> list[dict[str, Any]]:
    """The rows of a JSON document."""
    parsed = orjson.loads(document)
    rows: list[dict[str, Any]] = parsed["rows"]
    return rows


CSV_COLUMNS = (
    "patient_id",
    "identifiers",
    "program",
    "episode_id",
    "service",
    "first_day",
    "last_day",
    "code",
    "would_earn",
    "units",
    "status",
    "flags",
    "quantity",
    "unit",
    "rules",
    "days",
    "serials",
    "entries",
    "interactive_contact",
    "ordering_name",
    "ordering_npi",
    "consent_on",
    "consent_method",
    "setup_on",
    "setup_by",
    "discharged_on",
    "contact_at",
    "contact_attempts",
    "face_to_face_on",
    "med_reconciled_on",
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_line(row: Mapping[str, Any]) -> list[str]:
    ev: Mapping[str, Any] = row.get("evidence") or {}
    order = ev.get("order") or {}
    consent = ev.get("consent") or {}
    setup = ev.get("setup") or {}
    contact = ev.get("interactive_contact") or {}
    entries = ev.get("entries") or []
    flat = {
        **{k: row.get(k) for k in CSV_COLUMNS[:15]},
        "identifiers": ";".join(f"{i['system']}|{i['value']}" for i in row["identifiers"]),
        "flags": ";".join(row["flags"]),
        "days": ";".join(ev.get("days") or []),
        "serials": ";".join(ev.get("serials") or []),
        "entries": ";".join(f"{e['id']}:{e['minutes']}min:{e['by']}" for e in entries),
        "interactive_contact": (
            f"{contact['entry_id']} {contact['at']} {contact['by']}" if contact else ""
        ),
        "ordering_name": order.get("name"),
        "ordering_npi": order.get("npi"),
        "consent_on": consent.get("on"),
        "consent_method": consent.get("method"),
        "setup_on": setup.get("on"),
        "setup_by": setup.get("by"),
        "discharged_on": ev.get("discharged_on"),
        "contact_at": (ev.get("contact") or {}).get("at"),
        "contact_attempts": ";".join(
            f"{a['at']} {a['method']} {a['by']}{'' if a['in_time'] else ' late'}"
            for a in (ev.get("contact") or {}).get("attempts") or []
        ),
        "face_to_face_on": (ev.get("visit") or {}).get("on"),
        "med_reconciled_on": ev.get("med_reconciled_on"),
    }
    return [_text(flat[c]) for c in CSV_COLUMNS]


def write_csv(out: IO[str], rows: Iterable[Mapping[str, Any]], *, header: bool = True) -> int:
    """Write the rows (JSON objects) as CSV; how many were written."""
    writer = csv.writer(out)
    if header:
        writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(_csv_line(row))
        count += 1
    return count


def csv_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The CSV of the rows, UTF-8."""
    out = io.StringIO(newline="")
    write_csv(out, rows)
    return out.getvalue().encode()
