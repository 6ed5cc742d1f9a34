"""``lastmile vendors``: pull vendor clouds' data into the hub until stopped.

One process for every vendor adapter that is configured (today Fitbit). On
start it gives the vendor gateway a fresh MQTT password (kept in memory
only) and connects as that gateway; then, every ``vendors_poll_s``, it does
the pulls Fitbit's notifications queued, then the periodic pulls that are
due. Each pull publishes through the broker, so the ingest worker stores
the readings like any gateway's.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from devices.adapters.gateway import ensure_vendor_gateway, fresh_vendor_credentials
from devices.adapters.publisher import VendorPublisher
from devices.fitbit import service as fitbit
from devices.fitbit.convert import VENDOR, FitbitAdapter
from devices.fitbit.puller import FitbitPuller
from hub.db import Conn, connect
from hub.settings import Settings

log = logging.getLogger(__name__)


def run_once(conn: Conn, puller: FitbitPuller, *, now: datetime) -> int:
    """Queued pulls first, then due periodic ones; the number of pulls done."""
    done = 0
    for _user, day, patient_id in fitbit.queued_pulls(conn, now=now):
        puller.pull(conn, patient_id=patient_id, now=now, day=day)
        done += 1
    for patient_id in fitbit.due_connections(conn, now=now):
        puller.pull(conn, patient_id=patient_id, now=now)
        done += 1
    return done


def vendor_publisher(settings: Settings) -> VendorPublisher:
    """The Fitbit gateway's publisher, with a fresh password (gateway row made if missing)."""
    gateway_id = FitbitAdapter().gateway_id
    with connect(settings) as conn:
        ensure_vendor_gateway(conn, gateway_id=gateway_id, vendor=VENDOR)
        conn.commit()
    password = fresh_vendor_credentials(settings, gateway_id=gateway_id)
    return VendorPublisher(
        settings, gateway_id=gateway_id, password=password, timeout_s=settings.fitbit_timeout_s
    )


def run_vendors(settings: Settings, stop: threading.Event) -> None:
    if not settings.fitbit_enabled:
        log.info("no vendor is configured; nothing to pull")
        return
    with vendor_publisher(settings) as publisher, connect(settings) as conn:
        conn.autocommit = True
        puller = FitbitPuller(settings, publisher)
        log.info("vendors running", extra={"gateway_id": publisher.gateway_id})
        while not stop.is_set():
            run_once(conn, puller, now=datetime.now(UTC))
            stop.wait(settings.vendors_poll_s)
