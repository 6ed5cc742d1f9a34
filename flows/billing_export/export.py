"""The month's export: the scope's patients in batches, their evidence, the engine's rows.

Two passes over the scope's patients, in batches of :data:`BATCH_SIZE` by id:

1. the care rows (RPM and CCM time, transitional care), from the episodes
   and the time log (:func:`~flows.billing_export.evidence.care_evidence`);
2. the device rows (RPM device days and set-up), from the first pass's
   patients and episodes and the days with sensed data
   (:mod:`flows.billing_export.sensed`: one pass over the readings for the
   whole scope, the longest query of a month-end).

So the document holds the care rows, then the device rows; in each, patients
by id, then programme, service, first day, code. The same stored evidence
always gives the same rows, and the same bytes. Given ``reader`` (a way to
open a second connection), the readings are read on it while the first pass
runs, and a month-end export of 100,000 patients takes the longer of the two
instead of their sum; the rows and their order are the same either way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from uuid import UUID

from billing.models import Month
from flows.billing_export.calendar import rules_of_month
from flows.billing_export.care import tcm_rows, time_rows
from flows.billing_export.evidence import (
    PatientEvidence,
    Scope,
    ScopePatient,
    care_evidence,
    device_evidence,
    scope_patients,
    signed_among,
)
from flows.billing_export.render import JsonWriter
from flows.billing_export.rows import ExportRow
from flows.billing_export.rpm import rpm_rows
from flows.billing_export.sensed import SensedDays
from hub.care_programs import ProgramKind
from hub.db import Conn, Reader

__all__ = ["BATCH_SIZE", "Batch", "Reader", "export_batches", "export_document"]

#: Patients per batch: the evidence of a batch is read by a few queries.
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of the first pass (``care``) or the second: the patients read, those it
    covers, and their rows."""

    care: bool
    read: int
    covered: tuple[UUID, ...]
    rows: list[ExportRow]


RowsOf = Callable[[PatientEvidence, Month], Iterable[ExportRow]]


def _care_rows(evidence: PatientEvidence, month: Month) -> Iterator[ExportRow]:
    yield from time_rows(evidence, month)
    yield from tcm_rows(evidence, month)


def _rows(evidence: list[PatientEvidence], month: Month, rows_of: RowsOf) -> list[ExportRow]:
    """Each patient's rows, in the export's order."""
    return [row for e in evidence for row in sorted(rows_of(e, month), key=ExportRow.sort_key)]


def _batches(
    conn: Conn, *, month: Month, scope: Scope, size: int, skip_signed: bool
) -> Iterator[tuple[list[ScopePatient], list[ScopePatient]]]:
    """The scope's patients by id, a batch at a time: (those read, those covered)."""
    after: UUID | None = None
    while patients := scope_patients(conn, scope=scope, after=after, limit=size):
        after = patients[-1].id
        covered = patients
        if skip_signed:
            signed = signed_among(conn, month=month, patient_ids=[p.id for p in patients])
            covered = [p for p in patients if p.id not in signed]
        yield patients, covered


def _read_days(conn: Conn, reader: Reader | None, month: Month, scope: Scope) -> SensedDays:
    if reader is None:
        return SensedDays(conn, month=month, scope=scope)
    with reader() as other:
        return SensedDays(other, month=month, scope=scope)


def export_batches(
    conn: Conn,
    *,
    month: Month,
    scope: Scope,
    batch_size: int = BATCH_SIZE,
    skip_signed: bool = False,
    reader: Reader | None = None,
) -> Iterator[Batch]:
    """The scope's rows for the month, a batch of patients at a time, in two passes.

    With ``skip_signed``, patients whose month is signed already (by another
    scope's sign-off) are left out: what a sign-off covers.
    """
    rules_of_month(month)
    batches = _batches(conn, month=month, scope=scope, size=batch_size, skip_signed=skip_signed)
    # What the second pass needs of each batch: its last patient read, and the patients
    # and RPM episodes of the first (not their time: that is the first pass's alone).
    kept: list[tuple[int, UUID, list[PatientEvidence]]] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        days = pool.submit(_read_days, conn, reader, month, scope) if reader else None
        for read, covered in batches:
            evidence = care_evidence(conn, month=month, patients=covered)
            yield Batch(True, len(read), _ids(covered), _rows(evidence, month, _care_rows))
            kept.append((len(read), read[-1].id, [_for_devices(e) for e in evidence]))
        sensed = days.result() if days else _read_days(conn, None, month, scope)
    for count, last, care in kept:
        found = sensed.upto(last)
        evidence = device_evidence(conn, month=month, care=care, devices=found)
        ids = tuple(e.patient.id for e in care)
        yield Batch(False, count, ids, _rows(evidence, month, rpm_rows))


def _for_devices(evidence: PatientEvidence) -> PatientEvidence:
    rpm = tuple(e for e in evidence.episodes if e.kind is ProgramKind.RPM)
    return replace(evidence, episodes=rpm, entries=())


def _ids(patients: list[ScopePatient]) -> tuple[UUID, ...]:
    return tuple(p.id for p in patients)


def export_document(
    conn: Conn, *, month: Month, scope: Scope, skip_signed: bool = False
) -> tuple[bytes, list[UUID], int]:
    """The month's canonical JSON document, the patients it covers, and its row count."""
    out = io.BytesIO()
    covered: list[UUID] = []
    with JsonWriter(out, month=str(month), scope=scope.key) as writer:
        for batch in export_batches(conn, month=month, scope=scope, skip_signed=skip_signed):
            if batch.care:
                covered += batch.covered
            for row in batch.rows:
                writer.write(row.as_json())
    return out.getvalue(), covered, writer.rows
