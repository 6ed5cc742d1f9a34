"""Vendor gateways: one per vendor per hub, registered like any gateway.

The gateway row is made on demand (:func:`ensure_vendor_gateway`, by whoever
first needs it: the API when a patient connects an account, or the vendors
process). Its MQTT password is kept nowhere: the vendors process sets a fresh
one in the broker each time it starts (:func:`fresh_vendor_credentials`) and
holds it in memory only.
"""

from __future__ import annotations

import secrets

from hub.db import Conn
from hub.services.dynsec import DynsecClient
from hub.settings import Settings
from hub.sql import queries


def ensure_vendor_gateway(conn: Conn, *, gateway_id: str, vendor: str) -> None:
    """Make the vendor's gateway row exist (the caller commits)."""
    conn.execute(queries["ensure_vendor_gateway"], {"id": gateway_id, "label": f"{vendor} cloud"})


def fresh_vendor_credentials(settings: Settings, *, gateway_id: str) -> str:
    """Create or reset the gateway's broker client with a new password, and return it."""
    password = secrets.token_urlsafe(32)
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.create_gateway_client(gateway_id, password, replace=True)
    return password
