"""Pharmacy dispenses over MQTT: ``lastmile/v1/pharmacies/{feed_id}/dispenses``.

A message is one FHIR R4 ``MedicationDispense``, a JSON array of up to
:data:`MAX_DISPENSES` of them, or a FHIR ``Bundle`` whose entries are. Each
resource goes through the one validation path (:func:`ingest.dispenses.parse_dispense`)
that HTTP and CSV use too, and lands in the same ``dispenses`` table with the
same idempotency key, so a dispense sent over MQTT and again over HTTP counts
once.

The ingest worker handles these messages beside readings, in the same batch
transaction, acknowledged after the commit: :func:`parse_feed_message` (no
database) and :func:`store_feed_messages` (in the caller's transaction).
Every dispense that is not stored gets one dead letter, published on the
feed's ``errors`` topic as ``{"dispense_id", "index", "code", "detail"}``.
A duplicate is not an error: it is simply not stored again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hub.domain import Dispense, Rejection, RejectionCode
from ingest.dispenses import latest_fill_date, parse_dispense
from ingest.models import DeadLetter, Received

#: Dispenses accepted in one message (as for readings, contract section 1).
MAX_DISPENSES = 500


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """The valid dispenses of one message: (index in the message, reference, dispense)."""

    message: Received
    feed_id: str
    dispenses: tuple[tuple[int | None, str | None, Dispense], ...]


def _reference(resource: Mapping[str, Any]) -> str | None:
    """How the feed names a dispense: its first identifier's value, else its id."""
    identifiers = resource.get("identifier")
    if isinstance(identifiers, list):
        for ident in identifiers:
            if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                return str(ident["value"])
    ident = resource.get("id")
    return ident if isinstance(ident, str) else None


def _resources(document: object) -> list[object] | Rejection:
    """The resources a payload carries, or why it carries none."""
    if isinstance(document, dict):
        if document.get("resourceType") != "Bundle":
            return [document]
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            return Rejection(RejectionCode.SCHEMA_INVALID, "Bundle.entry must be a list")
        return [e.get("resource") if isinstance(e, dict) else None for e in entries]
    if isinstance(document, list):
        return list(document)
    return Rejection(
        RejectionCode.SCHEMA_INVALID,
        "expected a MedicationDispense, an array of them, or a Bundle",
    )


def parse_feed_message(
    msg: Received, feed_id: str, *, max_bytes: int
) -> tuple[FeedMessage, list[DeadLetter]]:
    """Validate every dispense of ``msg`` (no database, no side effects)."""
    valid: list[tuple[int | None, str | None, Dispense]] = []
    dead: list[DeadLetter] = []

    def reject(rejection: Rejection) -> None:
        dead.append(DeadLetter(msg, None, None, rejection, feed_id=feed_id))

    if len(msg.payload) > max_bytes:
        detail = f"payload of {len(msg.payload)} bytes exceeds the limit of {max_bytes} bytes"
        reject(Rejection(RejectionCode.PAYLOAD_TOO_LARGE, detail))
        return FeedMessage(msg, feed_id, ()), dead
    try:
        document = orjson.loads(msg.payload)
    except orjson.JSONDecodeError as exc:
        reject(Rejection(RejectionCode.MALFORMED_JSON, f"not JSON: {exc}"))
        return FeedMessage(msg, feed_id, ()), dead
    resources = _resources(document)
    if isinstance(resources, Rejection):
        reject(resources)
        return FeedMessage(msg, feed_id, ()), dead
    if len(resources) > MAX_DISPENSES:
        detail = f"{len(resources)} dispenses; at most {MAX_DISPENSES} per message"
        reject(Rejection(RejectionCode.PAYLOAD_TOO_LARGE, detail))
        return FeedMessage(msg, feed_id, ()), dead
    single = isinstance(document, dict) and document.get("resourceType") != "Bundle"
    today = latest_fill_date(msg.received_at)
    for position, resource in enumerate(resources):
        index = None if single else position
        if not isinstance(resource, dict):
            reject(Rejection(RejectionCode.SCHEMA_INVALID, "not a JSON object", index=index))
            continue
        ref = _reference(resource)
        outcome = parse_dispense(resource, today=today)
        if isinstance(outcome, Rejection):
            reject(dataclasses.replace(outcome, header_id=ref, index=index))
        else:
            valid.append((index, ref, outcome))
    return FeedMessage(msg, feed_id, tuple(valid)), dead
