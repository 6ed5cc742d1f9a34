"""Writing a month's export to a stream, as it is read: the command line's export.

A signed month is written from its stored bytes (the JSON as signed, or the
CSV made from it); an open one batch by batch, so memory stays that of one
batch whatever the number of patients.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from billing.models import Month
from flows.billing_export.evidence import Scope, count_scope
from flows.billing_export.export import Batch, Reader, export_batches
from flows.billing_export.render import JsonWriter, document_rows, write_csv
from flows.billing_export.signoff import SignOff, signed
from hub.db import Conn

__all__ = ["Written", "write_export"]

Format = Literal["json", "csv"]


@dataclass(slots=True)
class Written:
    """What was written: rows by status, and the sign-off it came from (None: live)."""

    patients: int = 0
    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    signed: SignOff | None = None


def write_export(
    conn: Conn,
    *,
    month: Month,
    scope: Scope,
    out: IO[bytes],
    fmt: Format,
    progress: Callable[[int], None] = lambda done: None,
    total: Callable[[int], None] = lambda patients: None,
    reader: Reader | None = None,
) -> Written:
    """Write the month's export of the scope to ``out``.

    ``total`` is told how much work there is (patients, twice: the export's
    two passes), ``progress`` how much more was done after each batch.
    ``reader`` opens a second connection for the readings' pass
    (:mod:`flows.billing_export.export`).
    """
    frozen = signed(conn, month=month, scope=scope)
    if frozen is not None:
        written = Written(signed=frozen.sign_off)
        total(frozen.sign_off.patient_count)
        document = frozen.document
        rows = document_rows(document)
        if fmt == "json":
            out.write(document)
        else:
            _csv(out, rows, header=True)
        written.patients, written.rows = frozen.sign_off.patient_count, len(rows)
        written.statuses.update(r["status"] for r in rows)
        progress(written.patients)
        return written
    written = Written()
    total(2 * count_scope(conn, scope=scope))  # two passes

    def taken(batch: Batch) -> list[dict[str, Any]]:
        found = [row.as_json() for row in batch.rows]
        written.patients += batch.read if batch.care else 0
        written.rows += len(found)
        written.statuses.update(r["status"] for r in found)
        progress(batch.read)
        return found

    batches = export_batches(conn, month=month, scope=scope, reader=reader)
    if fmt == "json":
        with JsonWriter(out, month=str(month), scope=scope.key) as writer:
            for batch in batches:
                for row in taken(batch):
                    writer.write(row)
    else:
        header = True
        for batch in batches:
            _csv(out, taken(batch), header=header)
            header = False
        if header:
            _csv(out, [], header=True)
    return written


def _csv(out: IO[bytes], rows: list[dict[str, Any]], *, header: bool) -> None:
    text = io.StringIO(newline="")
    write_csv(text, rows, header=header)
    out.write(text.getvalue().encode())
