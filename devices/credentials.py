"""Broker credentials: the hub's own MQTT user, gateways' and pharmacy feeds'.

All are kept in the broker's dynamic-security plugin (:mod:`hub.services.dynsec`).
"""

from __future__ import annotations

import logging
import secrets

from hub.services.dynsec import DynsecClient
from hub.settings import Settings

logger = logging.getLogger(__name__)


def provision_gateway_credentials(settings: Settings, *, gateway_id: str, password: str) -> None:
    """Create the gateway's MQTT client and role (publish only under its own topics)."""
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.create_gateway_client(gateway_id, password)


def rotate_gateway_password(settings: Settings, *, gateway_id: str) -> str:
    """Give the gateway a new MQTT password (returned) and end its current session.

    The plugin disconnects a client whose password changes; the old password
    is refused from then on.
    """
    password = secrets.token_urlsafe(24)
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.set_client_password(gateway_id, password)
    logger.info("dynsec_gateway_password_rotated username=%s", gateway_id)
    return password


def set_gateway_enabled(settings: Settings, *, gateway_id: str, enabled: bool) -> None:
    """Let the gateway log in again, or refuse its logins and end its session."""
    with DynsecClient.from_settings(settings) as dynsec:
        if enabled:
            dynsec.enable_client(gateway_id)
        else:
            dynsec.disable_client(gateway_id)
    logger.info("dynsec_gateway_enabled username=%s enabled=%s", gateway_id, enabled)


def provision_feed_credentials(settings: Settings, *, feed_id: str, password: str) -> None:
    """Create a pharmacy feed's MQTT client and role (publish only its dispenses topic)."""
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.create_feed_client(feed_id, password)
