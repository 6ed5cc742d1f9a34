"""What the migration tests share: applying the migrations of an earlier hub."""

from __future__ import annotations

from typing import Any

import psycopg

from hub.db import migrations


def migrate_below(conn: psycopg.Connection[Any], version: int) -> None:
    """Apply the migrations before ``version`` and record them, as the hub of then did."""
    with conn.transaction():
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for m in migrations():
            if m.version < version:
                conn.execute(m.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (m.version, m.name, m.checksum),
                )
