"""Emptying a benchmark database's alerts between runs.

Deleted, not truncated: the append-only time log (``time_entries``,
migration 0023) references alerts, and PostgreSQL refuses to truncate a table
another table references, while the log's triggers refuse to be truncated.
"""

from __future__ import annotations

from hub.db import Conn

#: Children first, so no row is left referencing a deleted one.
_ALERT_TABLES = ("push_outbox", "alert_evidence", "alert_events", "alerts")


def clear_alerts(conn: Conn) -> None:
    """Delete every alert with its evidence, events and pushes (the caller commits)."""
    for table in _ALERT_TABLES:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 - names from the tuple above
