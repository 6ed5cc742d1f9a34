"""Pharmacy feeds over HTTP: a FHIR Bundle, or NDJSON, of MedicationDispense resources.

Every entry is validated on its own (:func:`ingest.dispenses.parse_dispense`)
and reported on its own: stored, held (its patient is not enrolled yet),
duplicate, or rejected with a code. Good entries are stored even when
others are bad. Only an envelope that cannot be read at all is an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request

from api.deps import AdminDep, ConnDep
from api.exceptions import BadRequestError
from api.schemas import DispenseOutcome, DispenseReport
from flows.refill_checks import run_refill_checks
from hub.dispenses import insert_dispenses
from hub.domain import Dispense, Rejection, RejectionCode
from ingest.dispenses import latest_fill_date, parse_dispense

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep])

#: Entries accepted in one request.
MAX_ENTRIES = 10_000
NDJSON_TYPES = ("application/x-ndjson", "application/fhir+ndjson", "application/ndjson")


async def _raw_body(request: Request) -> bytes:
    """The body; its size is bounded by ``settings.api_max_upload_bytes`` (api/guards.py)."""
    return await request.body()


BodyDep = Annotated[bytes, Depends(_raw_body)]


def _entries(body: bytes, content_type: str) -> list[Any]:
    """The resources sent (parsed JSON, or the reason a line is not JSON)."""
    if content_type.split(";")[0].strip() in NDJSON_TYPES:
        out: list[Any] = []
        for line in body.splitlines():
            if line.strip():
                try:
                    out.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    out.append(Rejection(RejectionCode.MALFORMED_JSON, f"not JSON: {exc}"))
        return out
    try:
        bundle = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError("malformed_json", f"the body is not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequestError("schema_invalid", "expected a FHIR Bundle (or NDJSON)")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise BadRequestError("schema_invalid", "Bundle.entry must be a list")
    return [e.get("resource") if isinstance(e, dict) else None for e in entries]


@router.post("/pharmacy/dispenses", response_model=DispenseReport)
def post_dispenses(request: Request, body: BodyDep, conn: ConnDep) -> DispenseReport:
    resources = _entries(body, request.headers.get("content-type", "application/fhir+json"))
    if len(resources) > MAX_ENTRIES:
        detail = f"{len(resources):,} entries; at most {MAX_ENTRIES:,} per request"
        raise BadRequestError("payload_too_large", detail)
    today = latest_fill_date(datetime.now(UTC))
    parsed: list[Dispense | Rejection] = []
    for resource in resources:
        if isinstance(resource, Rejection):
            parsed.append(resource)
        elif not isinstance(resource, dict):
            parsed.append(Rejection(RejectionCode.SCHEMA_INVALID, "entry has no resource"))
        else:
            parsed.append(parse_dispense(resource, today=today))
    good = [p for p in parsed if isinstance(p, Dispense)]
    now = datetime.now(UTC)
    done = insert_dispenses(conn, dispenses=good, source="http", received_at=now)
    # On arrival: the refills may end an overdue alert (or show a new one).
    patients = {p for p in done.new.values() if p is not None}
    if patients:
        run_refill_checks(conn, now=now, patient_ids=patients)
    unclaimed = dict(done.new)
    outcomes = []
    for index, p in enumerate(parsed):
        if isinstance(p, Rejection):
            outcomes.append(DispenseOutcome(index=index, status="rejected", code=p.code.value,
                                            detail=p.detail))  # fmt: skip
            continue
        if p.dedup_key not in unclaimed:  # the first of equal keys is the new one
            status = "duplicate"
        else:
            status = "held" if unclaimed.pop(p.dedup_key) is None else "stored"
        outcomes.append(DispenseOutcome(index=index, status=status))
    return DispenseReport(
        stored=done.stored,
        held=done.held,
        duplicates=done.duplicates,
        rejected=len(parsed) - len(good),
        entries=outcomes,
    )
