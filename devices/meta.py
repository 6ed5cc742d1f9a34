"""Device metadata: the latest battery level, firmware and signal a device reported.

Gateways publish it on ``lastmile/v1/gateways/{gateway_id}/devices/{serial}/meta``
(parsed at the edge by :mod:`ingest.meta`). Only the latest report per device
is kept; an older one, forwarded late, changes nothing.

Every function is keyword-only, takes the connection and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.db import Conn
from hub.domain import DeviceMeta
from hub.sql import queries


def record_device_meta(conn: Conn, *, reports: Iterable[tuple[int, DeviceMeta]]) -> int:
    """Keep the newest of ``reports`` (device id, report) per device; how many were new."""
    newest: dict[int, DeviceMeta] = {}
    for device_id, meta in reports:
        kept = newest.get(device_id)
        if kept is None or kept.reported_at <= meta.reported_at:
            newest[device_id] = meta
    if not newest:
        return 0
    ids = sorted(newest)
    metas = [newest[i] for i in ids]
    cur = conn.execute(
        queries["upsert_device_meta"],
        {
            "ids": ids,
            "battery": [m.battery_percent for m in metas],
            "firmware": [m.firmware for m in metas],
            "signal": [m.signal_dbm for m in metas],
            "reported": [m.reported_at for m in metas],
            "received": [m.received_at for m in metas],
        },
    )
    return cur.rowcount
