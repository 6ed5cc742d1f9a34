"""Fitbit's subscription API: the subscriber endpoint's checks and notifications.

Fitbit signs each notification: ``X-Fitbit-Signature`` is the base64 HMAC-SHA1
of the raw body with the key ``<client secret>&``. A notification is a JSON
array of ``{"collectionType", "date", "ownerId", "ownerType",
"subscriptionId"}``; each queues a pull of that account and local date
(``userRevokedAccess`` ends the connection instead).

>>> import base64, hashlib, hmac
>>> body = b'[{"collectionType":"body","date":"2024-05-01","ownerId":"ABC123"}]'
>>> good = base64.b64encode(hmac.new(b"secret&", body, hashlib.sha1).digest()).decode()
>>> signature_ok("secret", body, good), signature_ok("secret", body, "AAAA")
(True, False)
>>> parse(body)
[Notification(owner_id='ABC123', day=datetime.date(2024, 5, 1), collection='body')]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

import orjson

from devices.fitbit import service as fitbit
from hub.db import Conn

_OWNER = re.compile(r"^[A-Za-z0-9]{1,32}$")
#: More notifications in one request than this is not Fitbit.
MAX_NOTIFICATIONS = 1000


@dataclass(frozen=True, slots=True)
class Notification:
    owner_id: str
    day: date
    collection: str


def signature_ok(client_secret: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    key = f"{client_secret}&".encode()
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha1).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


def parse(body: bytes) -> list[Notification]:
    """The notifications of a signed body; raises ValueError if it is not Fitbit's shape."""
    items = orjson.loads(body)
    if not isinstance(items, list) or len(items) > MAX_NOTIFICATIONS:
        raise ValueError("not a list of notifications")
    found = []
    for item in items:
        owner = item.get("ownerId") if isinstance(item, dict) else None
        if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
            raise ValueError("a notification without a valid ownerId")
        found.append(
            Notification(
                owner,
                date.fromisoformat(str(item.get("date"))),
                str(item.get("collectionType", "")),
            )
        )
    return found


def accept(conn: Conn, *, notifications: list[Notification], now: datetime) -> int:
    """Queue a pull per account and day (end revoked connections); how many were queued."""
    queued = 0
    for note in notifications:
        if note.collection == "userRevokedAccess":
            patient = fitbit.connected_patient(conn, fitbit_user_id=note.owner_id)
            if patient is not None:
                fitbit.end_connection(
                    conn, patient_id=patient, status="revoked", reason="user_revoked", now=now
                )
            continue
        fitbit.queue_pull(conn, fitbit_user_id=note.owner_id, day=note.day, now=now)
        queued += 1
    return queued
