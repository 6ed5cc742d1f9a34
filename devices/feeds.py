"""Registry of pharmacy feeds: repository functions over a connection.

A feed is provisioned like a gateway (contract section 2): its id is its MQTT
username and client id, and the broker lets it publish only on its own
``dispenses`` topic and read only its own ``errors`` topic. Every function is
keyword-only, takes the connection and never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from psycopg.rows import dict_row

from devices.models import PharmacyFeed
from hub.db import Conn
from hub.exceptions import NotFoundError
from hub.sql import queries

FeedStatus = Literal["active", "disabled"]


def new_feed_id() -> str:
    """A fresh feed id: also its MQTT username and client id."""
    return "ph-" + secrets.token_hex(8)


def create_feed(conn: Conn, *, feed_id: str, label: str | None) -> PharmacyFeed:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            queries["insert_pharmacy_feed"], {"id": feed_id, "label": label}
        ).fetchone()
    assert row is not None
    return PharmacyFeed(**row)


def set_feed_status(conn: Conn, *, feed_id: str, status: FeedStatus) -> PharmacyFeed:
    """Enable or disable a feed (a disabled feed's dispenses are rejected)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            queries["set_pharmacy_feed_status"], {"id": feed_id, "status": status}
        ).fetchone()
    if row is None:
        raise NotFoundError(f"pharmacy feed {feed_id}")
    return PharmacyFeed(**row)


def feed_statuses(conn: Conn, *, feed_ids: Iterable[str]) -> Mapping[str, str]:
    """The status of each known feed among ``feed_ids``."""
    ids = sorted(set(feed_ids))
    if not ids:
        return {}
    rows = conn.execute(queries["pharmacy_feed_statuses"], {"ids": ids}).fetchall()
    return {str(feed_id): str(status) for feed_id, status in rows}


def touch_feeds(conn: Conn, *, feed_ids: Iterable[str], seen_at: datetime) -> None:
    ids = sorted(set(feed_ids))
    if ids:
        conn.execute(queries["touch_pharmacy_feeds"], {"ids": ids, "seen_at": seen_at})
