"""Reading from a hot standby without showing a caller less than they already saw.

A request takes a *fence* on the primary (its WAL flushed so far: every
transaction acknowledged before the request ends at or before it) and asks
the read server where it stands against that fence:

- a **consistent** read (the worklist) is served by the replica once it has
  replayed up to the fence, so a coordinator who has just acknowledged an
  alert never sees it open again; it waits at most a moment for that, and
  otherwise reads from the primary;
- a **lagged** read (readings and their charts) is served by the replica when
  it is caught up or the newest transaction it replayed is at most
  ``max_lag_s`` old, which bounds what it may lack.

A read server that is not in recovery (the primary itself, or no replica at
all) is always current. Both functions leave the connection in an open
read-only transaction at READ COMMITTED: each later statement of the route
takes a snapshot no older than what was checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hub.db import Conn
from hub.sql import queries


@dataclass(frozen=True, slots=True)
class ReplicaPosition:
    """A read server against a fence (see the module docstring)."""

    in_recovery: bool
    caught_up: bool
    #: Seconds since the newest transaction it replayed committed (None: none yet).
    lag_s: float | None

    @property
    def current(self) -> bool:
        """Whether it shows every transaction committed before the fence."""
        return not self.in_recovery or self.caught_up

    def within(self, max_lag_s: float) -> bool:
        """Whether it lacks nothing older than ``max_lag_s`` seconds.

        >>> ReplicaPosition(True, False, 0.4).within(5.0)
        True
        >>> ReplicaPosition(True, False, None).within(5.0)
        False
        """
        return self.current or (self.lag_s is not None and self.lag_s <= max_lag_s)


def primary_fence(conn: Conn) -> str:
    """The fence: the primary's WAL position that covers every acknowledged commit."""
    row = conn.execute(queries["primary_flush_lsn"]).fetchone()
    assert row is not None
    return str(row[0])


def replica_position(conn: Conn, *, fence: str) -> ReplicaPosition:
    row = conn.execute(queries["replica_position"], {"fence": fence}).fetchone()
    assert row is not None
    in_recovery, caught_up, lag_s = row
    return ReplicaPosition(bool(in_recovery), bool(caught_up), lag_s)


def wait_for_fence(conn: Conn, *, fence: str, timeout_s: float, poll_s: float = 0.002) -> bool:
    """Wait until the read server is current against ``fence``; False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not replica_position(conn, fence=fence).current:
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True
