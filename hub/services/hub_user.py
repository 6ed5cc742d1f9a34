"""The hub's own MQTT user on the private broker, and a login probe.

``up`` (:mod:`hub.services.lifecycle`) makes the hub's user exist with the
``lastmile-hub`` role after it starts Mosquitto; :func:`login_works` asks the
broker whether credentials are accepted.
"""

from __future__ import annotations

import logging
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.services.dynsec import HUB_ACLS, HUB_ROLE, DynsecClient
from hub.services.exceptions import (
    DynsecAlreadyExistsError,
    DynsecConnectionError,
    DynsecError,
    DynsecTimeoutError,
)
from hub.settings import Settings

logger = logging.getLogger(__name__)


def login_works(
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    client_id: str = "",
    timeout_s: float = 5.0,
) -> bool:
    """Whether the broker accepts these credentials (an MQTT 3.1.1 connect and disconnect)."""
    probe = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"lastmile-probe-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv311,
    )
    probe.username_pw_set(username, password)
    probe.connect_timeout = timeout_s
    answers: list[ReasonCode] = []
    probe.on_connect = lambda _c, _u, _f, reason, _p: answers.append(reason)
    try:
        probe.connect(host, port, keepalive=10)
    except OSError as exc:
        raise DynsecConnectionError(f"cannot connect to broker {host}:{port}: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    try:
        while not answers and time.monotonic() < deadline:
            probe.loop(timeout=0.1)
    finally:
        probe.disconnect()
    if not answers:
        raise DynsecTimeoutError(f"no CONNACK from {host}:{port} within {timeout_s:.0f}s")
    return not answers[0].is_failure


def ensure_hub_client(settings: Settings) -> None:
    """Make the hub's MQTT user exist with the ``lastmile-hub`` role and the settings' password.

    Idempotent, and it leaves connected hub clients alone when nothing needs to
    change (the plugin disconnects a client whose password or roles change).
    Also makes the default ACL access deny publishing and subscribing.
    """
    username = settings.mqtt_hub_username
    password = settings.mqtt_hub_password.get_secret_value()
    if not password:
        raise DynsecError("mqtt_hub_password is empty")
    roles = [{"rolename": HUB_ROLE, "priority": 0}]
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.ensure_default_acl_access()
        dynsec.ensure_role(HUB_ROLE, HUB_ACLS)
        try:
            dynsec.command("createClient", username=username, password=password, roles=roles)
            logger.info("dynsec_hub_client_created username=%s", username)
            return
        except DynsecAlreadyExistsError:
            pass
        client = dynsec.get_client(username)
        role_names = [role.get("rolename") for role in client.get("roles", [])]
        if role_names != [HUB_ROLE] or client.get("clientid"):
            dynsec.command("modifyClient", username=username, clientid="", roles=roles)
            logger.info("dynsec_hub_client_roles_reset username=%s", username)
        if client.get("disabled"):
            dynsec.enable_client(username)
        if not login_works(
            host=settings.mqtt_host, port=settings.mqtt_port, username=username, password=password
        ):
            dynsec.set_client_password(username, password)
            logger.info("dynsec_hub_client_password_set username=%s", username)
