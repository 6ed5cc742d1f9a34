"""Vendor connections, pending authorizations and queued pulls: repository functions.

Every function is keyword-only, takes the connection and the vendor's name,
and never commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from devices.cloud.models import Connection
from hub.db import Conn
from hub.sql import queries


def add_state(
    conn: Conn, *, vendor: str, nonce: str, patient_id: UUID, expires_at: datetime
) -> None:
    conn.execute(
        queries["insert_vendor_state"],
        {"nonce": nonce, "vendor": vendor, "patient_id": patient_id, "expires_at": expires_at},
    )


def take_state(conn: Conn, *, vendor: str, nonce: str, patient_id: UUID, now: datetime) -> bool:
    """Use up a pending authorization; False if it was used, expired or never made."""
    conn.execute(queries["purge_vendor_states"], {"now": now})
    taken = conn.execute(
        queries["take_vendor_state"],
        {"nonce": nonce, "vendor": vendor, "patient_id": patient_id, "now": now},
    ).fetchone()
    return taken is not None


def save_connection(
    conn: Conn,
    *,
    vendor: str,
    patient_id: UUID,
    account_id: str,
    device_id: int,
    tokens: bytes,
    expires_at: datetime,
    scope: str,
    now: datetime,
) -> None:
    conn.execute(
        queries["upsert_vendor_connection"],
        {
            "vendor": vendor,
            "patient_id": patient_id,
            "account_id": account_id,
            "device_id": device_id,
            "tokens": tokens,
            "expires_at": expires_at,
            "scope": scope,
            "now": now,
        },
    )


def get_connection(conn: Conn, *, vendor: str, patient_id: UUID) -> Connection | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            queries["vendor_connection"], {"vendor": vendor, "patient_id": patient_id}
        ).fetchone()
    return None if row is None else Connection(**row)


def lock_connection(conn: Conn, *, vendor: str, patient_id: UUID) -> dict[str, Any] | None:
    """The connection's row, locked until the caller's transaction ends."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            queries["lock_vendor_connection"], {"vendor": vendor, "patient_id": patient_id}
        ).fetchone()


def store_tokens(
    conn: Conn,
    *,
    vendor: str,
    patient_id: UUID,
    tokens: bytes,
    expires_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        queries["store_vendor_tokens"],
        {
            "vendor": vendor,
            "patient_id": patient_id,
            "tokens": tokens,
            "expires_at": expires_at,
            "now": now,
        },
    )


def end_connection(
    conn: Conn, *, vendor: str, patient_id: UUID, status: str, reason: str, now: datetime
) -> None:
    """Mark a connected account ``revoked`` or ``disconnected`` and forget its tokens."""
    conn.execute(
        queries["end_vendor_connection"],
        {
            "vendor": vendor,
            "patient_id": patient_id,
            "status": status,
            "reason": reason,
            "now": now,
        },
    )


def pause(conn: Conn, *, vendor: str, patient_id: UUID, until: datetime, now: datetime) -> None:
    conn.execute(
        queries["pause_vendor_connection"],
        {"vendor": vendor, "patient_id": patient_id, "until": until, "now": now},
    )


def pull_done(
    conn: Conn,
    *,
    vendor: str,
    patient_id: UUID,
    pulled_through: date | None,
    timezone: str,
    next_pull_at: datetime | None,
    now: datetime,
) -> None:
    """Advance the cursor (and, after a periodic pull, schedule the next one)."""
    conn.execute(
        queries["vendor_pull_done"],
        {
            "vendor": vendor,
            "patient_id": patient_id,
            "pulled_through": pulled_through,
            "timezone": timezone,
            "periodic": next_pull_at is not None,
            "next_pull_at": next_pull_at,
            "now": now,
        },
    )


def pull_failed(
    conn: Conn, *, vendor: str, patient_id: UUID, reason: str, until: datetime, now: datetime
) -> None:
    """Record why a pull failed; nothing is asked for the account before ``until``."""
    conn.execute(
        queries["vendor_pull_failed"],
        {"vendor": vendor, "patient_id": patient_id, "reason": reason, "until": until, "now": now},
    )


def due_connections(conn: Conn, *, vendor: str, now: datetime, limit: int = 100) -> list[UUID]:
    rows = conn.execute(
        queries["vendor_due_connections"], {"vendor": vendor, "now": now, "limit": limit}
    )
    return [row[0] for row in rows.fetchall()]


def queue_pull(conn: Conn, *, vendor: str, account_id: str, day: date, now: datetime) -> None:
    conn.execute(
        queries["queue_vendor_pull"],
        {"vendor": vendor, "account_id": account_id, "day": day, "now": now},
    )


def queued_pulls(
    conn: Conn, *, vendor: str, now: datetime, limit: int = 100
) -> list[tuple[str, date, UUID]]:
    """Queued (account, day, patient) of connected accounts not paused, oldest first."""
    conn.execute(queries["purge_vendor_queue"], {"vendor": vendor})
    rows = conn.execute(
        queries["vendor_queued_pulls"], {"vendor": vendor, "now": now, "limit": limit}
    ).fetchall()
    return [(str(account), day, patient) for account, day, patient in rows]


def unqueue_pull(conn: Conn, *, vendor: str, account_id: str, day: date) -> None:
    conn.execute(
        queries["unqueue_vendor_pull"], {"vendor": vendor, "account_id": account_id, "day": day}
    )


def connected_patient(conn: Conn, *, vendor: str, account_id: str) -> tuple[UUID, str] | None:
    """The patient an account is connected to, and the patient's time zone."""
    row = conn.execute(
        queries["connected_vendor_patient"], {"vendor": vendor, "account_id": account_id}
    ).fetchone()
    return None if row is None else (UUID(str(row[0])), str(row[1]))


def device_of_serial(conn: Conn, *, serial: str) -> tuple[int, UUID, str] | None:
    """(device id, patient id, gateway id) of a registered serial."""
    row = conn.execute(queries["device_by_serial"], {"serial": serial}).fetchone()
    return None if row is None else (int(row[0]), UUID(str(row[1])), str(row[2]))
