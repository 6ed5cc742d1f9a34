"""The month's export: the scope's patients in batches, their evidence, the engine's rows.

Each batch reads its evidence with a handful of set-based queries
(:mod:`flows.billing_export.evidence`) and turns every patient's into rows
(:mod:`~flows.billing_export.rpm`, :mod:`~flows.billing_export.care`), in a
fixed order: patients by id, then programme, service, first day, code. So
the same stored evidence always gives the same rows, and the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from uuid import UUID

from billing.models import Month
from flows.billing_export.calendar import rules_of_month
from flows.billing_export.care import tcm_rows, time_rows
from flows.billing_export.evidence import (
    PatientEvidence,
    Scope,
    load_evidence,
    scope_patients,
    signed_among,
)
from flows.billing_export.render import JsonWriter
from flows.billing_export.rows import ExportRow
from flows.billing_export.rpm import rpm_rows
from flows.billing_export.sensed import SensedDays
from hub.db import Conn

__all__ = ["Batch", "export_batches", "export_document", "patient_rows"]

#: Patients per batch: the evidence of a batch is read by a few queries (the readings
#: once for all, :mod:`flows.billing_export.sensed`).
BATCH_SIZE = 1000


def patient_rows(evidence: PatientEvidence, month: Month) -> list[ExportRow]:
    """The patient's rows for the month, in the export's order."""
    rows = [*rpm_rows(evidence, month), *time_rows(evidence, month), *tcm_rows(evidence, month)]
    return sorted(rows, key=ExportRow.sort_key)


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch's patients read (``read``), those it covers, and their rows."""

    read: int
    covered: tuple[UUID, ...]
    rows: list[ExportRow]


def export_batches(
    conn: Conn,
    *,
    month: Month,
    scope: Scope,
    batch_size: int = BATCH_SIZE,
    skip_signed: bool = False,
) -> Iterator[Batch]:
    """The scope's rows for the month, a batch of patients at a time.

    With ``skip_signed``, patients whose month is signed already (by another
    scope's sign-off) are left out: what a sign-off covers.
    """
    rules_of_month(month)
    after: UUID | None = None
    with conn.transaction(), closing(SensedDays(conn, month=month, scope=scope)) as sensed:
        while True:
            patients = scope_patients(conn, scope=scope, after=after, limit=batch_size)
            if not patients:
                return
            after = patients[-1].id
            days = sensed.upto(after)
            if skip_signed:
                signed = signed_among(conn, month=month, patient_ids=[p.id for p in patients])
                covered = [p for p in patients if p.id not in signed]
            else:
                covered = patients
            found = load_evidence(conn, month=month, patients=covered, days=days)
            rows = [row for evidence in found for row in patient_rows(evidence, month)]
            yield Batch(len(patients), tuple(p.id for p in covered), rows)


def export_document(
    conn: Conn, *, month: Month, scope: Scope, skip_signed: bool = False
) -> tuple[bytes, list[UUID], int]:
    """The month's canonical JSON document, the patients it covers, and its row count."""
    out = io.BytesIO()
    covered: list[UUID] = []
    with JsonWriter(out, month=str(month), scope=scope.key) as writer:
        for batch in export_batches(conn, month=month, scope=scope, skip_signed=skip_signed):
            covered += batch.covered
            for row in batch.rows:
                writer.write(row.as_json())
    return out.getvalue(), covered, writer.rows
