"""A supervisor's sign-off of a month: the export frozen as the bytes signed.

Repository functions: keyword-only, take the connection, never commit (the
caller commits the sign-off with its audit row, in one transaction).

* A month is signed once it has ended in every time zone
  (:func:`~flows.billing_export.calendar.month_over_at`), once per scope
  (a supervisor's panel, or an admin's every patient): a second sign-off of
  the scope is :class:`AlreadySignedError`.
* The sign-off stores the canonical JSON export (its SHA-256 beside it) and
  which patients' month it covers: each patient's month is signed once, so
  a later sign-off of a wider scope leaves out the patients signed already.
* From then on the scope's export of that month is the stored bytes.
* Time logged later that starts in a covered patient's signed month counts in
  the first month after it not signed for the patient (migration 0024's
  trigger moves it); a correction of time billed in a signed month is
  refused (:class:`MonthSignedError`; log new time instead).
* The sign-off holds an advisory lock while it reads and stores; every new
  time entry shares it, so an entry is either in the bytes signed or moved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg.rows import dict_row

from billing.models import Month
from flows.billing_export.calendar import month_over_at, rules_of_month
from flows.billing_export.evidence import Scope, count_scope
from flows.billing_export.exceptions import (
    AlreadySignedError,
    MonthNotOverError,
    MonthSignedError,
)
from flows.billing_export.export import export_document
from hub.db import Conn
from hub.sql import queries

__all__ = ["Frozen", "SignOff", "check_correctable", "sign_off", "signed"]

FORMAT = "json"


@dataclass(frozen=True, slots=True)
class SignOff:
    """A month signed off for a scope (``all``, or ``supervisor:<user id>``)."""

    id: int
    month: str
    scope: str
    signed_by: UUID
    signed_by_name: str
    signed_at: datetime
    format: str
    #: The SHA-256 of the bytes signed, hex (also in the audit log).
    sha256: str
    patient_count: int
    row_count: int


@dataclass(frozen=True, slots=True)
class Frozen:
    """A sign-off and the export's bytes it froze."""

    sign_off: SignOff
    document: bytes


def signed(conn: Conn, *, month: Month, scope: Scope) -> Frozen | None:
    """The scope's sign-off of the month and its bytes, if any."""
    params = {"month": month.first_day, "scope": scope.key}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["billing_signoff"], params).fetchone()
    if row is None:
        return None
    done = SignOff(
        id=row["id"],
        month=str(month),
        scope=row["scope"],
        signed_by=row["signed_by"],
        signed_by_name=row["signed_by_name"],
        signed_at=row["signed_at"],
        format=row["format"],
        sha256=bytes(row["sha256"]).hex(),
        patient_count=row["patient_count"],
        row_count=row["row_count"],
    )
    return Frozen(done, bytes(row["document"]))


def sign_off(conn: Conn, *, month: Month, scope: Scope, signer: UUID, now: datetime) -> SignOff:
    """Sign the scope's month off: freeze its export (see the module for the rules)."""
    if now < month_over_at(month):
        over = month_over_at(month).isoformat()
        raise MonthNotOverError(f"{month} can be signed once it has ended everywhere ({over})")
    rules_of_month(month)
    conn.execute(queries["billing_signoff_lock"])
    earlier = signed(conn, month=month, scope=scope)
    if earlier is not None:
        done = earlier.sign_off
        msg = f"{month} was signed off by {done.signed_by_name} at {done.signed_at:%c}"
        raise AlreadySignedError(msg)
    document, covered, rows = export_document(conn, month=month, scope=scope, skip_signed=True)
    if not covered and count_scope(conn, scope=scope):
        raise AlreadySignedError(f"every patient of this scope has {month} signed off already")
    digest = hashlib.sha256(document).digest()
    params = {
        "month": month.first_day,
        "scope": scope.key,
        "signed_by": signer,
        "signed_at": now,
        "format": FORMAT,
        "document": document,
        "sha256": digest,
        "patient_count": len(covered),
        "row_count": rows,
    }
    inserted = conn.execute(queries["insert_billing_signoff"], params).fetchone()
    assert inserted is not None
    conn.execute(
        queries["insert_billing_signed_patients"],
        {"month": month.first_day, "patient_ids": covered, "signoff_id": inserted[0]},
    )
    stored = signed(conn, month=month, scope=scope)
    assert stored is not None
    return stored.sign_off


def check_correctable(conn: Conn, *, patient_id: UUID, entry_id: int) -> None:
    """:class:`MonthSignedError` if the patient's entry is billed in a signed month.

    Takes the lock every time entry shares (so no sign-off slips in before
    the correction is written).
    """
    conn.execute(queries["billing_time_lock"])
    row = conn.execute(
        queries["billing_entry_month"], {"patient_id": patient_id, "entry_id": entry_id}
    ).fetchone()
    if row is not None and row[1]:
        msg = (
            f"time entry {entry_id} is billed in {row[0]:%Y-%m}, which is signed off: "
            "log the difference as new time instead"
        )
        raise MonthSignedError(msg)
