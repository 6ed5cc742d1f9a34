"""Web Push to coordinators: their browser subscriptions and the alert outbox.

An alert's pushes are written to ``push_outbox`` in the transaction that
records the alert (:func:`enqueue_alert_push`), so an alert that rolls back
pushes nothing and a committed one is pushed even if the hub stops right
after; :mod:`alerts.pusher` sends them. Who gets an alert (the patient's
panel, escalation) is decided by the caller and passed as ``recipients``.

A push carries no PHI: the alert id and a generic sentence. The dashboard
fetches the alert over the authenticated API.

Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

import binascii
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric import ec
from psycopg.types.json import Jsonb

from alerts.exceptions import InvalidSubscriptionError
from alerts.vapid import b64url_decode
from hub.alerting import Severity
from hub.db import Conn
from hub.sql import queries

TITLE = "Lastmile"
BODY = "A patient needs attention"
BODY_URGENT = "Urgent: a patient needs attention"

_AUTH_SECRET_BYTES = 16
_MAX_ENDPOINT_LENGTH = 2048


def urgency_for(severity: Severity) -> str:
    """The Web Push ``Urgency`` of an alert (RFC 8030 section 5.3).

    >>> urgency_for(Severity.CRITICAL), urgency_for(Severity.HIGH)
    ('high', 'normal')
    """
    return "high" if severity is Severity.CRITICAL else "normal"


def alert_payload(*, alert_id: int, severity: Severity) -> dict[str, Any]:
    """What the browser receives about an alert: its id and generic text only.

    >>> alert_payload(alert_id=7, severity=Severity.CRITICAL)
    {'alert_id': 7, 'title': 'Lastmile', 'body': 'Urgent: a patient needs attention'}
    """
    body = BODY_URGENT if severity is Severity.CRITICAL else BODY
    return {"alert_id": alert_id, "title": TITLE, "body": body}


def enqueue_alert_push(
    conn: Conn,
    *,
    alert_id: int,
    severity: Severity,
    recipients: Sequence[UUID],
    now: datetime,
) -> list[int]:
    """Queue the alert's push to every subscription of the recipients; return the row ids.

    Runs in the caller's transaction: call it in the one that records the alert.
    """
    if not recipients:
        return []
    params = {
        "alert_id": alert_id,
        "urgency": urgency_for(severity),
        "payload": Jsonb(alert_payload(alert_id=alert_id, severity=severity)),
        "user_ids": list(dict.fromkeys(recipients)),
        "now": now,
    }
    return [int(row[0]) for row in conn.execute(queries["enqueue_alert_push"], params)]


def check_subscription(*, endpoint: str, p256dh: str, auth: str, allow_http: bool) -> None:
    """Refuse an endpoint or keys a browser would not give (:class:`InvalidSubscriptionError`).

    The endpoint must be an absolute https URL (http only with ``allow_http``,
    for a push service on loopback in tests), ``p256dh`` a P-256 public key
    as an uncompressed point and ``auth`` a 16-byte secret, both base64url.
    """
    if len(endpoint) > _MAX_ENDPOINT_LENGTH:
        raise InvalidSubscriptionError("endpoint is too long")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise InvalidSubscriptionError("endpoint must be an https URL")
    if not parts.hostname or parts.username or parts.password:
        raise InvalidSubscriptionError("endpoint must name a host and no credentials")
    if parts.scheme == "https" and _is_internal(parts.hostname):
        raise InvalidSubscriptionError("endpoint must be a public push service")
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except (ValueError, binascii.Error) as exc:
        raise InvalidSubscriptionError("keys must be base64url") from exc
    if len(point) != 65 or point[0] != 0x04:
        raise InvalidSubscriptionError("p256dh must be an uncompressed P-256 point")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise InvalidSubscriptionError("p256dh is not a point on P-256") from exc
    if len(secret) != _AUTH_SECRET_BYTES:
        raise InvalidSubscriptionError("auth must be a 16-byte secret")


def _is_internal(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def add_subscription(
    conn: Conn, *, user_id: UUID, endpoint: str, p256dh: str, auth: str, now: datetime
) -> int:
    """Store a browser's subscription for the user; return its id.

    A known endpoint is the same browser subscribing again: its row takes the
    new keys and user. Check the values with :func:`check_subscription` first.
    """
    params = {"user_id": user_id, "endpoint": endpoint, "p256dh": p256dh, "auth": auth, "now": now}
    row = conn.execute(queries["upsert_push_subscription"], params).fetchone()
    assert row is not None
    return int(row[0])


def remove_subscription(conn: Conn, *, subscription_id: int, user_id: UUID | None) -> bool:
    """Delete a subscription with its pending pushes; False if there is none.

    With ``user_id``, only that user's subscription is deleted (another
    user's is reported as missing); ``None`` deletes whoever's it is (the
    push service said the subscription is gone).
    """
    row = conn.execute(queries["lock_push_subscription"], {"id": subscription_id}).fetchone()
    if row is None or (user_id is not None and row[0] != user_id):
        return False
    conn.execute(
        queries["delete_pending_push_for_subscription"], {"subscription_id": subscription_id}
    )
    conn.execute(queries["delete_push_subscription"], {"id": subscription_id})
    return True
