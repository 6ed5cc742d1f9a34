"""The reference gateway's outbox: readings kept on disk until the hub has them.

An SQLite file (standard library), so the outbox survives the gateway's own
restart. Entries are kept in the order they were produced; each one is a
reading's topic serial, its ``header.id`` and its payload bytes. An entry
leaves only through :meth:`Outbox.remove`, when the gateway knows the hub
stored or rejected the reading (:mod:`ingest.conformance.gateway`).

>>> box = Outbox(":memory:")
>>> box.add("SC-1", "r-1", b"{}")
1
>>> [(e.serial, e.header_id) for e in box.pending()]
[('SC-1', 'r-1')]
>>> box.remove([1]); len(box)
0
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL,
    header_id TEXT NOT NULL,
    payload BLOB NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One reading waiting for the hub's word."""

    id: int
    serial: str
    header_id: str
    payload: bytes


class Outbox:
    """A durable FIFO of readings; every change is committed at once."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def add(self, serial: str, header_id: str, payload: bytes) -> int:
        """Keep a reading (before it is published); its entry id."""
        cursor = self._db.execute(
            "INSERT INTO outbox (serial, header_id, payload) VALUES (?, ?, ?)",
            (serial, header_id, payload),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def pending(self) -> list[Entry]:
        """Every entry still waiting, oldest first."""
        rows = self._db.execute(
            "SELECT id, serial, header_id, payload FROM outbox ORDER BY id"
        ).fetchall()
        return [Entry(*row) for row in rows]

    def remove(self, ids: Iterable[int]) -> None:
        self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def ids_of(self, serial: str, header_id: str) -> list[int]:
        """The entries holding one reading (normally one)."""
        rows = self._db.execute(
            "SELECT id FROM outbox WHERE serial = ? AND header_id = ?", (serial, header_id)
        ).fetchall()
        return [i for (i,) in rows]

    def remove_reading(self, serial: str, header_id: str) -> int:
        """Drop the entries of one reading (its rejection came); how many there were."""
        cursor = self._db.execute(
            "DELETE FROM outbox WHERE serial = ? AND header_id = ?", (serial, header_id)
        )
        return cursor.rowcount

    def __len__(self) -> int:
        (n,) = self._db.execute("SELECT count(*) FROM outbox").fetchone()
        return int(n)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
