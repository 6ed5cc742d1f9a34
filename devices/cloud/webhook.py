"""A vendor's notifications, parsed by its plugin, become queued pulls (or end a connection)."""

from __future__ import annotations

from datetime import datetime

from devices.cloud import service as cloud
from devices.cloud.models import Notification
from hub.db import Conn


def accept(conn: Conn, *, vendor: str, notifications: list[Notification], now: datetime) -> int:
    """Queue a pull per account and day (end revoked connections); how many were queued."""
    queued = 0
    for note in notifications:
        if note.revoked:
            patient = cloud.connected_patient(conn, vendor=vendor, account_id=note.account_id)
            if patient is not None:
                cloud.end_connection(
                    conn,
                    vendor=vendor,
                    patient_id=patient,
                    status="revoked",
                    reason="user_revoked",
                    now=now,
                )
            continue
        cloud.queue_pull(conn, vendor=vendor, account_id=note.account_id, day=note.day, now=now)
        queued += 1
    return queued
