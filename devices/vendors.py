"""``lastmile vendors``: pull vendor clouds' data into the hub until stopped.

One process for every vendor cloud of the registry (:mod:`devices.registry`)
that is configured. On start it gives each vendor's gateway a fresh MQTT
password (kept in memory only) and connects as that gateway; then, every
``vendors_poll_s``, it does for each vendor the pulls its notifications
queued, then the periodic pulls that are due. Each pull publishes through
the broker, so the ingest worker stores the readings like any gateway's.
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from datetime import UTC, datetime

from devices.adapters.gateway import ensure_vendor_gateway, fresh_vendor_credentials
from devices.adapters.publisher import VendorPublisher
from devices.cloud import service as cloud
from devices.cloud.base import CloudVendor
from devices.cloud.puller import Puller
from devices.registry import VENDORS
from hub.db import Conn, connect
from hub.settings import Settings

log = logging.getLogger(__name__)


def run_once(conn: Conn, puller: Puller, *, now: datetime) -> int:
    """One vendor's queued pulls first, then its due periodic ones; the number of pulls done."""
    vendor = puller.vendor.name
    done = 0
    for _account, day, patient_id in cloud.queued_pulls(conn, vendor=vendor, now=now):
        puller.pull(conn, patient_id=patient_id, now=now, day=day)
        done += 1
    for patient_id in cloud.due_connections(conn, vendor=vendor, now=now):
        puller.pull(conn, patient_id=patient_id, now=now)
        done += 1
    return done


def enabled_vendors(settings: Settings) -> list[CloudVendor]:
    """The registry's vendors that are configured."""
    return [vendor for vendor in VENDORS.values() if vendor.config(settings).enabled]


def vendor_publisher(settings: Settings, vendor: CloudVendor) -> VendorPublisher:
    """The vendor gateway's publisher, with a fresh password (gateway row made if missing)."""
    gateway_id = vendor.adapter.gateway_id
    with connect(settings) as conn:
        ensure_vendor_gateway(conn, gateway_id=gateway_id, vendor=vendor.name)
        conn.commit()
    password = fresh_vendor_credentials(settings, gateway_id=gateway_id)
    return VendorPublisher(
        settings,
        gateway_id=gateway_id,
        password=password,
        timeout_s=vendor.config(settings).timeout_s,
    )


def run_vendors(settings: Settings, stop: threading.Event) -> None:
    vendors = enabled_vendors(settings)
    if not vendors:
        log.info("no vendor is configured; nothing to pull")
        return
    with ExitStack() as stack:
        pullers = []
        for vendor in vendors:
            publisher = stack.enter_context(vendor_publisher(settings, vendor))
            pullers.append(Puller(settings, vendor, publisher))
            log.info(
                "vendor running", extra={"vendor": vendor.name, "gateway_id": publisher.gateway_id}
            )
        conn = stack.enter_context(connect(settings))
        conn.autocommit = True
        while not stop.is_set():
            now = datetime.now(UTC)
            for puller in pullers:
                run_once(conn, puller, now=now)
            stop.wait(settings.vendors_poll_s)
