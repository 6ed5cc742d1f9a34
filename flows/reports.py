"""What a batch stores besides readings: device metadata reports and pharmacy dispenses.

Both need another domain (the device registry for a report's route and its
newest values; the pharmacy feeds' registry for a feed's status), so they run
here, in the batch's transaction (:mod:`flows.writer`), on messages
:mod:`ingest.routing` already parsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from devices.feeds import feed_statuses, touch_feeds
from devices.meta import record_device_meta
from flows.directory import DeviceDirectory, route_problem
from hub.db import Conn
from hub.dispenses import insert_dispenses
from hub.domain import DeviceMeta, Dispense, Rejection, RejectionCode
from ingest.meta import MetaMessage
from ingest.models import DeadLetter
from ingest.pharmacy_mqtt import FeedMessage


def store_meta_messages(
    conn: Conn, *, metas: Sequence[MetaMessage], directory: DeviceDirectory
) -> list[DeadLetter]:
    """Store the reports of registered devices on their own gateway; the others' dead letters."""
    routes = directory.lookup(conn, serials=(m.device_serial for m in metas))
    dead: list[DeadLetter] = []
    reports: list[tuple[int, DeviceMeta]] = []
    for meta in metas:
        route = routes.get(meta.device_serial)
        problem = route_problem(route, meta.gateway_id, meta.device_serial)
        if problem is not None:
            dead.append(
                DeadLetter(meta.message, meta.gateway_id, meta.device_serial, Rejection(*problem))
            )
        elif route is not None:
            reports.append((route.id, meta.meta))
    record_device_meta(conn, reports=reports)
    return dead


@dataclass(slots=True)
class FeedOutcome:
    """What a batch's feed messages did."""

    stored: int = 0
    held: int = 0
    duplicates: int = 0
    #: Patients with new fills (whose refills to check).
    patient_ids: set[UUID] = field(default_factory=set)
    dead: list[DeadLetter] = field(default_factory=list)


def store_feed_messages(
    conn: Conn, *, messages: Sequence[FeedMessage], received_at: datetime
) -> FeedOutcome:
    """Store the valid dispenses of active feeds, in the caller's transaction.

    A feed that is not provisioned (or was deleted) or is disabled has its
    dispenses rejected (``unknown_feed``, ``feed_disabled``), one by one.
    """
    outcome = FeedOutcome()
    statuses = feed_statuses(conn, feed_ids=(m.feed_id for m in messages))
    by_feed: dict[str, list[Dispense]] = defaultdict(list)
    for m in messages:
        status = statuses.get(m.feed_id)
        if status == "active":
            by_feed[m.feed_id].extend(d for _, _, d in m.dispenses)
            continue
        if status is None:
            code, detail = RejectionCode.UNKNOWN_FEED, f"pharmacy feed {m.feed_id} is not known"
        else:
            code, detail = RejectionCode.FEED_DISABLED, f"pharmacy feed {m.feed_id} is disabled"
        for index, ref, _ in m.dispenses:
            rejection = Rejection(code, detail, header_id=ref, index=index)
            outcome.dead.append(DeadLetter(m.message, None, None, rejection, feed_id=m.feed_id))
    for feed_id, dispenses in by_feed.items():
        done = insert_dispenses(
            conn, dispenses=dispenses, source="mqtt", received_at=received_at, feed_id=feed_id
        )
        outcome.stored += done.stored
        outcome.held += done.held
        outcome.duplicates += done.duplicates
        outcome.patient_ids.update(p for p in done.new.values() if p is not None)
    touch_feeds(conn, feed_ids=by_feed, seen_at=received_at)
    return outcome
