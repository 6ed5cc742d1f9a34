"""CSV import of pharmacy fills: each row becomes a ``MedicationDispense``.

Columns (header row required; order free):

=================  ========================================================
``patient_system`` the identifier system given at enrolment (e.g. an MRN's)
``patient_value``  the identifier's value
``drug_system``    ``rxnorm`` or ``ndc`` (or the code system's URI)
``drug_code``      the RxNorm or NDC code
``fill_date``      ``YYYY-MM-DD``
``days_supply``    whole days, at least 1
``quantity``       units dispensed (may be empty)
``medication``     optional: the drug's name; its ingredients give its classes
``dispense_id``    optional: the pharmacy's id of the fill (idempotency key)
=================  ========================================================

Each row goes through the same validation as a dispense over MQTT or HTTP
(:func:`ingest.dispenses.parse_dispense`). :func:`import_rows` works in
batches, each stored in the caller's transaction, and yields what each
batch did, so the caller commits and shows progress between them; then
:func:`check_refills` runs the refill checks for the patients with new fills.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from hub.db import Conn
from hub.dispenses import insert_dispenses
from hub.domain import Dispense, Rejection, RejectionCode
from ingest.dispenses import CODE_SYSTEMS, latest_fill_date, parse_dispense

REQUIRED = (
    "patient_system",
    "patient_value",
    "drug_system",
    "drug_code",
    "fill_date",
    "days_supply",
    "quantity",
)
UCUM = "http://unitsofmeasure.org"
#: The identifier system of a ``dispense_id`` given in a CSV file.
CSV_IDENTIFIER_SYSTEM = "urn:lastmile:csv-dispense"


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (no header, a required column missing)."""


@dataclass(slots=True)
class ImportPart:
    """What one batch of rows did."""

    rows: int = 0
    stored: int = 0
    held: int = 0
    duplicates: int = 0
    unclassified: int = 0
    #: (line number, code, detail) of each rejected row.
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    #: Enrolled patients with new fills (whose refills to check, see :func:`check_refills`).
    patients: set[UUID] = field(default_factory=set)


def _number(value: str, name: str, kind: type[int] | type[float]) -> float | Rejection | None:
    if not value.strip():
        return None
    try:
        return kind(value)
    except ValueError:
        return Rejection(RejectionCode.SCHEMA_INVALID, f"{name}: {value!r} is not a number")


def row_to_resource(row: Mapping[str, str | None]) -> dict[str, Any] | Rejection:
    """The ``MedicationDispense`` a CSV row stands for."""
    get = {k: (v or "").strip() for k, v in row.items() if k is not None}
    system = CODE_SYSTEMS.get(get.get("drug_system", "").lower(), get.get("drug_system", ""))
    if system not in CODE_SYSTEMS.values():
        detail = f"drug_system: {get.get('drug_system')!r} is neither rxnorm nor ndc"
        return Rejection(RejectionCode.SCHEMA_INVALID, detail)
    supply = _number(get.get("days_supply", ""), "days_supply", int)
    quantity = _number(get.get("quantity", ""), "quantity", float)
    for checked in (supply, quantity):
        if isinstance(checked, Rejection):
            return checked
    concept: dict[str, Any] = {"coding": [{"system": system, "code": get.get("drug_code")}]}
    if get.get("medication"):
        concept["text"] = get["medication"]
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "subject": {
            "identifier": {"system": get.get("patient_system"), "value": get.get("patient_value")}
        },
        "medicationCodeableConcept": concept,
        "whenHandedOver": get.get("fill_date"),
    }
    if supply is not None:
        resource["daysSupply"] = {
            "value": supply,
            "system": "http://unitsofmeasure.org",
            "code": "d",
        }
    if quantity is not None:
        resource["quantity"] = {"value": quantity}
    if get.get("dispense_id"):
        resource["identifier"] = [{"system": CSV_IDENTIFIER_SYSTEM, "value": get["dispense_id"]}]
    return resource


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line number, row) of each data row; checks the header first.

    A byte order mark before the header (spreadsheets write one) is ignored.
    Text that is not UTF-8, or a field over the csv module's size limit,
    raises :class:`CsvFormatError` when the reading gets there (the caller
    has stored the batches before it).

    >>> bom = chr(0xFEFF)
    >>> rows = read_rows([bom + ",".join(REQUIRED), ",".join("1234567")])
    >>> next(rows)[1]["patient_system"]
    '1'
    """
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
        if not header:
            raise CsvFormatError("the file is empty: a header row is required")
        reader.fieldnames = header = [header[0].removeprefix("\ufeff"), *header[1:]]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise CsvFormatError(f"required column(s) missing: {', '.join(missing)}")
        for row in reader:
            yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise CsvFormatError("the file is not UTF-8 text") from exc
    except csv.Error as exc:
        raise CsvFormatError(f"line {reader.line_num + 1}: not CSV ({exc})") from exc


def import_rows(
    conn: Conn,
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
    *,
    batch_size: int = 5000,
    today: date | None = None,
) -> Iterator[ImportPart]:
    """Validate and store ``rows`` batch by batch in the caller's transaction."""
    today = today or latest_fill_date(datetime.now(UTC))
    part, good = ImportPart(), list[Dispense]()
    for line, row in rows:
        part.rows += 1
        resource = row_to_resource(row)
        parsed = (
            resource if isinstance(resource, Rejection) else parse_dispense(resource, today=today)
        )
        if isinstance(parsed, Rejection):
            part.rejected.append((line, parsed.code.value, parsed.detail))
        else:
            good.append(parsed)
            part.unclassified += not parsed.classes
        if part.rows >= batch_size:
            yield _store(conn, part, good)
            part, good = ImportPart(), []
    if part.rows:
        yield _store(conn, part, good)


def _store(conn: Conn, part: ImportPart, good: list[Dispense]) -> ImportPart:
    done = insert_dispenses(conn, dispenses=good, source="csv", received_at=datetime.now(UTC))
    part.stored, part.held, part.duplicates = done.stored, done.held, done.duplicates
    part.unclassified -= done.by_loaded_code  # classified by the loaded RxNorm table
    part.patients = {p for p in done.new.values() if p is not None}
    return part
