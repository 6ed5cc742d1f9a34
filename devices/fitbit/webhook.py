"""Fitbit's subscription API: the subscriber endpoint's checks and notifications.

Fitbit signs each notification: ``X-Fitbit-Signature`` is the base64 HMAC-SHA1
of the raw body with the key ``<client secret>&``. A notification is a JSON
array of ``{"collectionType", "date", "ownerId", "ownerType",
"subscriptionId"}``; each queues a pull of that account and local date
(``userRevokedAccess`` ends the connection instead: :mod:`devices.cloud.webhook`).

>>> import base64, hashlib, hmac
>>> body = b'[{"collectionType":"body","date":"2024-05-01","ownerId":"ABC123"}]'
>>> good = base64.b64encode(hmac.new(b"secret&", body, hashlib.sha1).digest()).decode()
>>> signature_ok("secret", body, good), signature_ok("secret", body, "AAAA")
(True, False)
>>> parse(body)
[Notification(account_id='ABC123', day=datetime.date(2024, 5, 1), kind='body', revoked=False)]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date

import orjson

from devices.cloud.models import Notification

_OWNER = re.compile(r"^[A-Za-z0-9]{1,32}$")
#: More notifications in one request than this is not Fitbit.
MAX_NOTIFICATIONS = 1000
#: The collection of the notification Fitbit sends when the patient withdrew access.
REVOKED = "userRevokedAccess"


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
        collection = str(item.get("collectionType", ""))
        found.append(
            Notification(
                owner,
                date.fromisoformat(str(item.get("date"))),
                collection,
                revoked=collection == REVOKED,
            )
        )
    return found
