"""A vendor's notifications, parsed by its plugin, become queued pulls (or end a connection).

A notification names a day, or a time span (:attr:`Notification.span`): a
span is queued as each day of the patient's own time zone it touches, so a
weighing at 23:30 in Auckland is pulled as that Auckland day.

>>> from zoneinfo import ZoneInfo
>>> start = datetime(2024, 5, 1, 11, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 in Auckland
>>> local_days((start, start), "Pacific/Auckland")
[datetime.date(2024, 5, 1)]
>>> local_days((start, start + timedelta(hours=1)), "Pacific/Auckland")
[datetime.date(2024, 5, 1), datetime.date(2024, 5, 2)]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.cloud import service as cloud
from devices.cloud.models import Notification
from hub.db import Conn


def local_days(span: tuple[datetime, datetime], timezone: str) -> list[date]:
    """The days of ``timezone`` that the span touches (the plugin checked it is a short one)."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    first, last = (instant.astimezone(tz).date() for instant in span)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def accept(conn: Conn, *, vendor: str, notifications: list[Notification], now: datetime) -> int:
    """Queue a pull per account and day (end revoked connections); how many were queued."""
    queued = 0
    for note in notifications:
        if note.revoked:
            found = cloud.connected_patient(conn, vendor=vendor, account_id=note.account_id)
            if found is not None:
                cloud.end_connection(
                    conn,
                    vendor=vendor,
                    patient_id=found[0],
                    status="revoked",
                    reason="user_revoked",
                    now=now,
                )
            continue
        if note.span is not None:
            found = cloud.connected_patient(conn, vendor=vendor, account_id=note.account_id)
            if found is None:
                continue  # no patient's days to speak of: nothing to pull
            days = local_days(note.span, found[1])
        else:
            days = [] if note.day is None else [note.day]
        for day in days:
            cloud.queue_pull(conn, vendor=vendor, account_id=note.account_id, day=day, now=now)
            queued += 1
    return queued
