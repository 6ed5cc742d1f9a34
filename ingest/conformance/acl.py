"""Topic and ACL checks against the hub's broker, over MQTT 5.

MQTT 5 makes the broker's decisions visible: a refused publish is a PUBACK
with ``Not authorized`` (0x87), a refused subscription a SUBACK failure.
The checks (contract section 1):

* a connection with the gateway's credentials but another client id is refused;
* the gateway's own connection is accepted;
* publishing to another gateway's readings topic is refused;
* publishing to its own ``errors`` topic (forging a rejection) is refused;
* subscribing to ``#`` and to another gateway's ``errors`` topic is refused;
* subscribing to its own ``errors`` topic is granted;
* publishing its ``status`` (retained) is accepted.

Nothing here is stored by the hub: refused publishes never reach it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.topics import errors_topic, readings_topic, status_topic
from ingest.conformance.models import Check
from ingest.conformance.session import Session, describe

#: MQTT 5 reason "Not authorized".
NOT_AUTHORIZED = 0x87


def run_acl_checks(
    *, host: str, port: int, gateway_id: str, password: str, timeout: float
) -> list[Check]:
    """The checks above, in order; stops early when the gateway cannot connect."""

    def session(client_id: str) -> Session:
        return Session(
            host=host, port=port, client_id=client_id, username=gateway_id, password=password,
            protocol=MQTTProtocolVersion.MQTTv5, timeout=timeout,
        )  # fmt: skip

    checks: list[Check] = []
    other_id = f"{gateway_id}-conformance-{uuid.uuid4().hex[:6]}"
    with session(other_id) as foreign:
        reason = foreign.connect()
    checks.append(
        Check(
            "connect with a client id other than the gateway id is refused",
            reason.is_failure,
            describe(reason),
        )
    )
    own = session(gateway_id)
    with own:
        reason = own.connect()
        checks.append(
            Check("connect as the gateway is accepted", not reason.is_failure, describe(reason))
        )
        if reason.is_failure:
            return checks
        checks.extend(_topic_checks(own, gateway_id))
    return checks


def _topic_checks(own: Session, gateway_id: str) -> list[Check]:
    stranger = f"gw-conformance{uuid.uuid4().hex[:12]}"
    probe = b'{"conformance": "this publish must be refused"}'

    def refused(reason: ReasonCode | None) -> bool:
        return reason is not None and reason.value == NOT_AUTHORIZED

    def granted(reason: ReasonCode | None) -> bool:
        return reason is not None and not reason.is_failure

    def check(
        name: str, reason: ReasonCode | None, ok: Callable[[ReasonCode | None], bool]
    ) -> Check:
        return Check(name, ok(reason), describe(reason))

    return [
        check(
            "publish to another gateway's readings topic is refused (0x87)",
            own.publish(readings_topic(stranger, "SN-1"), probe),
            refused,
        ),
        check(
            "publish to the own errors topic is refused (0x87)",
            own.publish(errors_topic(gateway_id), probe),
            refused,
        ),
        check(
            "subscribe to '#' is refused",
            own.subscribe("#"),
            lambda r: r is not None and r.is_failure,
        ),
        check(
            "subscribe to another gateway's errors topic is refused",
            own.subscribe(errors_topic(stranger)),
            lambda r: r is not None and r.is_failure,
        ),
        check(
            "subscribe to the own errors topic is granted",
            own.subscribe(errors_topic(gateway_id)),
            granted,
        ),
        check(
            "publish 'online' (retained) to the own status topic is accepted",
            own.publish(status_topic(gateway_id), b"online", retain=True),
            granted,
        ),
    ]
