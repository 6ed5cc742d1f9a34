"""Database access behaviours the rest of the hub relies on."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from hub.db import connect
from hub.settings import Settings
from tests.support import count

pytestmark = pytest.mark.services


def _hypertable(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE m (t timestamptz NOT NULL, v int)")
    conn.execute("SELECT create_hypertable('m', 't', chunk_time_interval => interval '1 day')")
    conn.execute("INSERT INTO m VALUES ('2026-01-01', 1)")


def test_a_long_read_transaction_sees_rows_in_a_chunk_created_meanwhile(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    _hypertable(conn)
    with connect(settings) as reader:  # one transaction for all its reads
        for _ in range(8):  # past psycopg's default threshold for preparing
            assert count(reader, "SELECT count(*) FROM m") == 1
        conn.execute("INSERT INTO m VALUES ('2026-03-01', 2)")  # a new chunk
        assert count(reader, "SELECT count(*) FROM m") == 2


def test_the_same_with_auto_prepare_misses_the_new_chunk(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    """Why hub.db turns auto-prepare off: this is psycopg's default behaviour."""
    _hypertable(conn)
    with psycopg.connect(settings.conninfo, prepare_threshold=5) as reader:
        for _ in range(8):
            assert count(reader, "SELECT count(*) FROM m") == 1
        conn.execute("INSERT INTO m VALUES ('2026-03-01', 2)")
        assert count(reader, "SELECT count(*) FROM m") == 1
