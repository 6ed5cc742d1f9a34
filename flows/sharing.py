"""Several ingest workers on one hub: their slots and their share group.

A worker started as slot ``k`` (``lastmile ingest --slot k``) is the MQTT
client ``<mqtt_ingest_client_id>-k`` with a persistent session of its own,
subscribed through the group's shared subscriptions
(:func:`ingest.session.topic_filters`); the broker hands each message to
one member of the group. What they coordinate through the database, as
advisory locks (two int4 keys, the first a namespace below):

* a slot is run by one process at a time: a worker holds its slot's lock
  (session-level, on a connection of its own, :class:`SlotMembership`)
  before it connects to the broker, and a second process for the same slot
  waits for it; the same client id twice would take each other's session;
* membership: a worker also holds its slot's member lock while it is
  subscribed; one that is told to stop leaves the group
  (:meth:`SlotMembership.leave`) only if another member stays, so that the
  last one to stop keeps its subscriptions and the broker keeps queueing the
  group's messages for its session while the hub is down (Mosquitto, like
  the MQTT 5 specification, drops a message for a share group with no
  subscriber);
* a batch's per-patient locks (:mod:`flows.patient_order`);
* the scheduled passes' turn (:mod:`flows.scheduler`).
"""

from __future__ import annotations

import contextlib
import logging
import threading

import psycopg

from hub.db import Conn, connect
from hub.settings import Settings
from hub.sql import queries

log = logging.getLogger(__name__)

#: Namespaces of the workers' advisory locks (positive int4: pg_locks shows them as oids).
SLOT_LOCKS = 0x4C4D_0101
MEMBER_LOCKS = 0x4C4D_0102
PATIENT_LOCKS = 0x4C4D_0103
_ONE_AT_A_TIME = 0x4C4D_0104
#: The scheduled passes' turn.
TURN_LOCK = {"namespace": _ONE_AT_A_TIME, "key": 1}
#: Held while a worker decides whether it may leave the group.
_LEAVING_LOCK = {"namespace": _ONE_AT_A_TIME, "key": 2}

#: How often a worker whose slot is taken looks again.
_CLAIM_RETRY_S = 2.0


class SlotMembership:
    """A worker's slot and its membership of the share group, as session locks.

    On a connection of its own (autocommit), held from :meth:`claim` until
    :meth:`close`. Should that connection break, :meth:`check` takes the
    locks again on a new one.
    """

    def __init__(self, settings: Settings, slot: int) -> None:
        self._settings = settings
        self.slot = slot
        self._conn: Conn | None = None
        self._member = False

    def _lock(self, conn: Conn, namespace: int) -> bool:
        row = conn.execute(
            queries["try_session_lock"], {"namespace": namespace, "key": self.slot}
        ).fetchone()
        return bool(row and row[0])

    def _try_claim(self) -> bool:
        conn = connect(self._settings)
        conn.autocommit = True
        if not self._lock(conn, SLOT_LOCKS):
            conn.close()
            return False
        self._member = self._lock(conn, MEMBER_LOCKS)
        self._conn = conn
        return True

    def claim(self, stop: threading.Event) -> bool:
        """Wait until this process holds the slot (``False``: told to stop first)."""
        warned = False
        while not stop.is_set():
            try:
                if self._try_claim():
                    log.info("ingest slot claimed", extra={"slot": self.slot})
                    return True
                if not warned:
                    log.warning(
                        "ingest slot held by another process; waiting for it",
                        extra={"slot": self.slot},
                    )
                    warned = True
            except psycopg.OperationalError as exc:
                log.warning("database unavailable; slot not claimed yet", extra={"error": str(exc)})
            stop.wait(_CLAIM_RETRY_S)
        return False

    def check(self) -> None:
        """Take the locks again if their connection broke (a database restart)."""
        conn = self._conn
        try:
            if conn is not None and not conn.closed:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            pass
        self.close()
        try:
            if not self._try_claim():
                log.error(
                    "ingest slot taken by another process while its locks were lost",
                    extra={"slot": self.slot},
                )
        except psycopg.OperationalError:
            pass  # tried again at the next check

    def members(self) -> list[int]:
        """The slots subscribed to the group now (this one included while it is)."""
        conn = self._conn
        assert conn is not None, "slot not claimed"
        rows = conn.execute(queries["held_session_locks"], {"namespace": MEMBER_LOCKS})
        return [int(slot) for (slot,) in rows.fetchall()]

    def leave(self) -> bool:
        """Leave the group if another member stays; whether it left.

        Members decide one at a time, so two that stop together never both
        leave the last. If the database cannot say, the worker stays: its
        session keeps its share of the messages until the slot runs again.
        """
        conn = self._conn
        if conn is None or conn.closed:
            return False
        try:
            with conn.transaction():
                conn.execute(queries["transaction_lock"], _LEAVING_LOCK)
                others = [s for s in self.members() if s != self.slot]
                if others and self._member:
                    conn.execute(
                        queries["session_unlock"], {"namespace": MEMBER_LOCKS, "key": self.slot}
                    )
                    self._member = False
                    log.info("leaving the share group", extra={"slot": self.slot, "others": others})
                    return True
        except psycopg.OperationalError as exc:
            log.warning("database unavailable; staying in the group", extra={"error": str(exc)})
            return False
        log.info("last member of the share group: keeping its subscriptions")
        return False

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._member = False
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()
