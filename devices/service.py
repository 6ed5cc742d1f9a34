"""Registry of gateways and devices: repository functions over a connection.

Every function is keyword-only, takes the connection and never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from devices.models import Device, DeviceRoute, Gateway
from hub.db import Conn
from hub.domain import DeviceKind
from hub.exceptions import ConflictError, NotFoundError
from hub.sql import queries


def new_gateway_id() -> str:
    """A fresh gateway id: also its MQTT username and client id."""
    return "gw-" + secrets.token_hex(8)


def create_gateway(conn: Conn, *, gateway_id: str, label: str | None) -> Gateway:
    with conn.cursor(row_factory=dict_row) as cur:
        try:
            with conn.transaction():
                row = cur.execute(
                    queries["insert_gateway"], {"id": gateway_id, "label": label}
                ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"gateway {gateway_id} exists") from exc
    assert row is not None
    return Gateway(**row)


def get_gateway(conn: Conn, *, gateway_id: str) -> Gateway:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["get_gateway"], {"id": gateway_id}).fetchone()
    if row is None:
        raise NotFoundError(f"gateway {gateway_id}")
    row.pop("last_seen_at", None)
    return Gateway(**row)


def create_device(
    conn: Conn, *, serial: str, kind: DeviceKind, gateway_id: str, patient_id: UUID
) -> Device:
    params = {
        "serial": serial,
        "kind": kind.value,
        "gateway_id": gateway_id,
        "patient_id": patient_id,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        try:
            with conn.transaction():
                row = cur.execute(queries["insert_device"], params).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"device serial {serial} is registered already") from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError("gateway or patient does not exist") from exc
    assert row is not None
    row["kind"] = DeviceKind(row["kind"])
    return Device(**row)


def routes_for_serials(conn: Conn, *, serials: Iterable[str]) -> dict[str, DeviceRoute]:
    """Look up the registered devices among ``serials``."""
    wanted = sorted(set(serials))
    if not wanted:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["devices_by_serials"], {"serials": wanted}).fetchall()
    return {row["serial"]: DeviceRoute(**{**row, "kind": DeviceKind(row["kind"])}) for row in rows}


def touch_gateways(conn: Conn, *, gateway_ids: Iterable[str], seen_at: datetime) -> None:
    ids = sorted(set(gateway_ids))
    if ids:
        conn.execute(queries["touch_gateways"], {"ids": ids, "seen_at": seen_at})


def activate_devices(conn: Conn, *, device_ids: Iterable[int], at: datetime) -> None:
    """Mark registered devices active, from their first accepted reading."""
    ids = sorted(set(device_ids))
    if ids:
        conn.execute(queries["activate_devices"], {"ids": ids, "at": at})


def set_gateway_presence(
    conn: Conn, *, gateway_id: str, online: bool, at: datetime, retained: bool
) -> bool:
    """Record a gateway's status message (its Last Will says offline).

    False if it changed nothing: older than the one recorded, or a retained
    copy of the presence recorded already.
    """
    row = conn.execute(
        queries["set_gateway_presence"],
        {
            "id": gateway_id,
            "presence": "online" if online else "offline",
            "at": at,
            "retained": retained,
        },
    ).fetchone()
    return row is not None
