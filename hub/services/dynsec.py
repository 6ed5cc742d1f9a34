"""A small synchronous client for Mosquitto's Dynamic Security control API.

Commands are JSON published to ``$CONTROL/dynamic-security/v1`` by the admin
client; the plugin answers on ``$CONTROL/dynamic-security/v1/response``. Every
command carries a fresh ``correlationData`` that the answer echoes, so an
answer is matched to its command even when other admin sessions are active.

Gateways get a role of their own whose ACLs confine them to their topic tree
(see :func:`gateway_acls`), and a client whose MQTT client id must equal its
username, the gateway id; pharmacy feeds likewise (:func:`feed_acls`). The
hub's clients share the ``lastmile-hub`` role (:mod:`devices.credentials`).

>>> [acl.topic for acl in gateway_acls("gw-1") if acl.acltype == "subscribeLiteral"]
['lastmile/v1/gateways/gw-1/errors']
>>> [acl.topic for acl in feed_acls("ph-1") if acl.acltype == "publishClientSend"]
['lastmile/v1/pharmacies/ph-1/dispenses']
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal, Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.services.exceptions import (
    DynsecAlreadyExistsError,
    DynsecCommandError,
    DynsecConnectionError,
    DynsecError,
    DynsecNotFoundError,
    DynsecTimeoutError,
)
from hub.settings import Settings

logger = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
HUB_ROLE = "lastmile-hub"
GATEWAY_ROLE_PREFIX = "gateway:"
FEED_ROLE_PREFIX = "pharmacy:"
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")

AclType = Literal[
    "publishClientSend",
    "publishClientReceive",
    "subscribeLiteral",
    "subscribePattern",
    "unsubscribeLiteral",
    "unsubscribePattern",
]


@dataclass(frozen=True, slots=True)
class Acl:
    """One ACL of a role; a higher priority is checked first."""

    acltype: AclType
    topic: str
    allow: bool = True
    priority: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


#: What a client may do where no role ACL matches: send and subscribe only
#: where allowed, receive what its subscriptions deliver.
DEFAULT_ACL_ACCESS: dict[str, bool] = {
    "publishClientSend": False,
    "publishClientReceive": True,
    "subscribe": False,
    "unsubscribe": True,
}

_HUB_READS = (
    "lastmile/v1/gateways/+/devices/+/readings",
    "lastmile/v1/gateways/+/devices/+/meta",
    "lastmile/v1/gateways/+/status",
    "lastmile/v1/pharmacies/+/dispenses",
    "$SYS/#",
)
_HUB_WRITES = ("lastmile/v1/gateways/+/errors", "lastmile/v1/pharmacies/+/errors")

#: The hub's clients (ingest, tests, benchmarks): read what gateways and
#: pharmacy feeds send, also as shared subscriptions (``$share/<group>/...``,
#: which the broker checks as written), and write their ``errors`` topics.
HUB_ACLS: tuple[Acl, ...] = (
    *(Acl("subscribePattern", topic) for topic in _HUB_READS),
    *(Acl("subscribePattern", f"$share/+/{topic}") for topic in _HUB_READS[:-1]),
    *(Acl("publishClientReceive", topic) for topic in _HUB_READS),
    *(Acl("publishClientSend", topic) for topic in _HUB_WRITES),
)


def gateway_role(gateway_id: str) -> str:
    return GATEWAY_ROLE_PREFIX + gateway_id


def gateway_acls(gateway_id: str) -> tuple[Acl, ...]:
    """Publish under its own tree except ``errors``; read only its own ``errors``."""
    root = f"lastmile/v1/gateways/{gateway_id}"
    return (
        Acl("publishClientSend", f"{root}/#"),
        Acl("publishClientSend", f"{root}/errors", allow=False, priority=1),
        Acl("subscribeLiteral", f"{root}/errors"),
        Acl("publishClientReceive", f"{root}/errors"),
    )


def feed_role(feed_id: str) -> str:
    return FEED_ROLE_PREFIX + feed_id


def feed_acls(feed_id: str) -> tuple[Acl, ...]:
    """Publish only its own ``dispenses`` topic; read only its own ``errors``."""
    root = f"lastmile/v1/pharmacies/{feed_id}"
    return (
        Acl("publishClientSend", f"{root}/dispenses"),
        Acl("subscribeLiteral", f"{root}/errors"),
        Acl("publishClientReceive", f"{root}/errors"),
    )


def _check_id(client_id: str) -> None:
    if not _CLIENT_ID.fullmatch(client_id):
        raise DynsecError(f"invalid client id {client_id!r}: letters, digits and _.:- only")


class DynsecClient:
    """An admin session with the dynamic-security plugin; use as a context manager."""

    def __init__(
        self, *, host: str, port: int, username: str, password: str, timeout_s: float = 5.0
    ) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._mqtt = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"lastmile-dynsec-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self._mqtt.username_pw_set(username, password)
        # paho's network thread only hands events on to the caller's thread.
        inbox = self._inbox
        self._mqtt.on_connect = lambda _c, _u, _f, reason, _p: inbox.put(("connect", reason))
        self._mqtt.on_subscribe = lambda _c, _u, _m, reasons, _p: inbox.put(("subscribe", reasons))
        self._mqtt.on_message = lambda _c, _u, message: inbox.put(("message", message.payload))

    @classmethod
    def from_settings(cls, settings: Settings) -> DynsecClient:
        """A session as the broker's dynsec admin user."""
        return cls(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.mqtt_admin_username,
            password=settings.mqtt_admin_password.get_secret_value(),
        )

    # -- the caller's thread.
    def _next(self, kind: str, deadline: float, what: str) -> Any:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DynsecTimeoutError(f"{what}: no answer within {self._timeout_s:.0f}s")
            try:
                got, value = self._inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if got == kind:
                return value

    def connect(self) -> None:
        """Connect as the admin and subscribe to the response topic."""
        deadline = time.monotonic() + self._timeout_s
        target = f"{self._host}:{self._port}"
        try:
            self._mqtt.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise DynsecConnectionError(f"cannot connect to broker {target}: {exc}") from exc
        self._mqtt.loop_start()
        try:
            reason: ReasonCode = self._next("connect", deadline, f"connect to {target}")
            if reason.is_failure:
                raise DynsecConnectionError(f"broker {target} refused the admin: {reason}")
            self._mqtt.subscribe(RESPONSE_TOPIC, qos=1)
            granted: list[ReasonCode] = self._next("subscribe", deadline, "subscribe")
            if not granted or granted[0].is_failure:
                raise DynsecConnectionError(f"admin may not subscribe to {RESPONSE_TOPIC}")
        except DynsecError:
            self.close()
            raise

    def close(self) -> None:
        self._mqtt.disconnect()
        self._mqtt.loop_stop()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def command(self, command: str, **params: Any) -> dict[str, Any]:
        """Run one command; return its ``data`` (empty for most); raise on an error answer."""
        correlation = uuid.uuid4().hex
        body = {"commands": [{"command": command, "correlationData": correlation, **params}]}
        info = self._mqtt.publish(CONTROL_TOPIC, json.dumps(body), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DynsecConnectionError(f"{command}: publish failed: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + self._timeout_s
        while True:
            payload: bytes = self._next("message", deadline, command)
            try:
                responses = json.loads(payload).get("responses", [])
            except (ValueError, AttributeError):
                logger.warning("dynsec_bad_response bytes=%d", len(payload))
                continue
            for response in responses:
                if response.get("correlationData") == correlation:
                    return _result(command, response)

    # -- operations.
    def get_default_acl_access(self) -> dict[str, bool]:
        data = self.command("getDefaultACLAccess")
        return {acl["acltype"]: bool(acl["allow"]) for acl in data.get("acls", [])}

    def ensure_default_acl_access(self) -> None:
        """Make the defaults :data:`DEFAULT_ACL_ACCESS` (deny send and subscribe)."""
        if self.get_default_acl_access() != DEFAULT_ACL_ACCESS:
            acls = [{"acltype": kind, "allow": allow} for kind, allow in DEFAULT_ACL_ACCESS.items()]
            self.command("setDefaultACLAccess", acls=acls)
            logger.info("dynsec_default_acl_set")

    def ensure_role(self, name: str, acls: tuple[Acl, ...] | list[Acl]) -> None:
        """Create the role, or make an existing one's ACLs exactly ``acls``."""
        wanted = {(acl.acltype, acl.topic): acl for acl in acls}
        try:
            self.command("createRole", rolename=name, acls=[acl.as_json() for acl in acls])
            logger.info("dynsec_role_created role=%s", name)
            return
        except DynsecAlreadyExistsError:
            pass
        current = self.command("getRole", rolename=name).get("role", {}).get("acls", [])
        present: set[tuple[str, str]] = set()
        for acl in current:
            key = (acl["acltype"], acl["topic"])
            want = wanted.get(key)
            if want is not None and (want.allow, want.priority) == (
                bool(acl.get("allow")),
                int(acl.get("priority", 0)),
            ):
                present.add(key)
                continue
            self.command("removeRoleACL", rolename=name, acltype=key[0], topic=key[1])
        for key, acl in wanted.items():
            if key not in present:
                self.command("addRoleACL", rolename=name, **acl.as_json())
        if len(present) != len(wanted) or len(current) != len(present):
            logger.info("dynsec_role_updated role=%s", name)

    def create_confined_client(
        self, username: str, password: str, *, role: str, acls: tuple[Acl, ...], replace: bool
    ) -> None:
        """Create ``role`` with ``acls`` and a client (username = client id) holding it.

        An existing client raises :class:`DynsecAlreadyExistsError` unless
        ``replace``, which resets its password, client id and roles (and so
        disconnects it).
        """
        _check_id(username)
        self.ensure_role(role, acls)
        client = {
            "username": username,
            "password": password,
            "clientid": username,
            "roles": [{"rolename": role, "priority": 0}],
        }
        try:
            self.command("createClient", **client)
        except DynsecAlreadyExistsError:
            if not replace:
                raise
            self.command("modifyClient", **client)
            self.enable_client(username)
        logger.info(
            "dynsec_confined_client username=%s role=%s replaced=%s", username, role, replace
        )

    def create_gateway_client(
        self, gateway_id: str, password: str, *, replace: bool = False
    ) -> None:
        """The gateway's role and client (username = client id = gateway id)."""
        role = gateway_role(gateway_id)
        self.create_confined_client(
            gateway_id, password, role=role, acls=gateway_acls(gateway_id), replace=replace
        )

    def create_feed_client(self, feed_id: str, password: str, *, replace: bool = False) -> None:
        """A pharmacy feed's role and client (username = client id = feed id)."""
        role = feed_role(feed_id)
        self.create_confined_client(
            feed_id, password, role=role, acls=feed_acls(feed_id), replace=replace
        )

    def delete_confined_client(self, username: str, role: str) -> None:
        """Delete a client and its role (either may be gone already)."""
        _check_id(username)
        self.delete_client(username, missing_ok=True)
        with contextlib.suppress(DynsecNotFoundError):
            self.command("deleteRole", rolename=role)

    def delete_gateway_client(self, gateway_id: str) -> None:
        self.delete_confined_client(gateway_id, gateway_role(gateway_id))

    def set_client_password(self, username: str, password: str) -> None:
        self.command("setClientPassword", username=username, password=password)

    def disable_client(self, username: str) -> None:
        """Refuse the client's logins from now on and disconnect it."""
        self.command("disableClient", username=username)

    def enable_client(self, username: str) -> None:
        self.command("enableClient", username=username)

    def delete_client(self, username: str, *, missing_ok: bool = False) -> None:
        try:
            self.command("deleteClient", username=username)
        except DynsecNotFoundError:
            if not missing_ok:
                raise

    def get_client(self, username: str) -> dict[str, Any]:
        return dict(self.command("getClient", username=username).get("client", {}))


def _result(command: str, response: dict[str, Any]) -> dict[str, Any]:
    error = response.get("error")
    if error:
        text = str(error)
        lowered = text.lower()
        if "already exists" in lowered:
            raise DynsecAlreadyExistsError(command, text)
        if "not found" in lowered:
            raise DynsecNotFoundError(command, text)
        raise DynsecCommandError(command, text)
    data: dict[str, Any] = response.get("data") or {}
    return data
