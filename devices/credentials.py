"""Broker credentials of gateways, kept in the broker's dynamic-security plugin."""

from __future__ import annotations

from devices.dynsec import DynsecClient
from hub.settings import Settings


def provision_gateway_credentials(settings: Settings, *, gateway_id: str, password: str) -> None:
    """Create the gateway's MQTT client and role (publish only under its own topics)."""
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.create_gateway_client(gateway_id, password)
