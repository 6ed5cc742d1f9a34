"""Issue #7, item 8: the broker's authentication and authorization matrix, under live traffic.

While one legitimate gateway publishes a reading every 20 ms, other clients
try what the contract forbids, over MQTT 3.1.1 and 5: no credentials, a wrong
password, a disabled gateway, another gateway's id as client id, one
gateway publishing on another's readings, status and meta topics or
subscribing to ``#`` and another's errors topic, the hub's own identity
publishing readings, a packet over the broker's limit, and a burst of bad
logins. The database is the judge: nothing from a denied attempt is stored,
every reading the broker acknowledged to the legitimate gateway is stored
once, and the broker is still up.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import MQTTProtocolVersion

from hub.services.hub_user import login_works
from hub.services.mosquitto_conf import MAX_PACKET_SIZE
from hub.settings import Settings
from hub.topics import errors_topic, meta_topic, readings_topic, status_topic
from tests.conftest import start_worker
from tests.proof import Profile, ProofRow
from tests.security.mqtt_probes import (
    LegitFlow,
    Tally,
    device_readings,
    duplicated_readings,
    login_refused,
    probe_id,
    publish_refused,
    session,
)
from tests.support import GatewayClient, count, now_minus, provision, wait_until, weight_point

pytestmark = pytest.mark.services

PROTOCOLS = {"3.1.1": MQTTProtocolVersion.MQTTv311, "5": MQTTProtocolVersion.MQTTv5}


def _logins(settings: Settings, tally: Tally, protocol: MQTTProtocolVersion, **gws: Any) -> None:
    victim, disabled = gws["victim"], gws["disabled"]
    with GatewayClient(settings, "", "", protocol=protocol, client_id=probe_id()) as anonymous:
        tally.check("anonymous connect", not anonymous.connected)
    tally.check(
        "wrong password",
        login_refused(settings, username=victim.gateway_id, password="x" * 24, protocol=protocol),
    )
    tally.check(
        "disabled gateway",
        login_refused(
            settings, username=disabled.gateway_id, password=disabled.password, protocol=protocol
        ),
    )
    tally.check(
        "client id other than the gateway id",
        login_refused(
            settings,
            username=victim.gateway_id,
            password=victim.password,
            protocol=protocol,
            client_id=f"{victim.gateway_id}-x",
        ),
    )


def _cross_gateway(
    settings: Settings, tally: Tally, protocol: MQTTProtocolVersion, **gws: Any
) -> list[tuple[str, bytes]]:
    """Mallory (a valid gateway) on the victim's topics; what Mallory's session received."""
    mallory, victim = gws["mallory"], gws["victim"]
    serial = victim.serials["scale"]
    reading = orjson.dumps(weight_point(81.0, now_minus(hours=3)))
    meta = orjson.dumps({"battery_percent": 50, "firmware": "6.6.6"})
    probe = session(
        settings, username=mallory.gateway_id, password=mallory.password, protocol=protocol
    )
    with probe:
        assert not probe.connect().is_failure
        for name, topic, payload, retain in (
            ("publish on another's readings", readings_topic(victim.gateway_id, serial), reading,
             False),
            ("publish on another's status", status_topic(victim.gateway_id), b"online", True),
            ("publish on another's meta", meta_topic(victim.gateway_id, serial), meta, False),
        ):  # fmt: skip
            tally.check(
                name, publish_refused(probe.publish(topic, payload, retain=retain), protocol)
            )
        for name, topic_filter in (
            ("subscribe to '#'", "#"),
            ("subscribe to another's errors", errors_topic(gws["legit"].gateway_id)),
        ):
            reason = probe.subscribe(topic_filter)
            tally.check(name, reason is not None and reason.is_failure)
        # The legitimate gateway's flow and one rejection sent to it pass by meanwhile.
        gws["flow"].send_raw(b"{not json")
        assert wait_until(lambda: len(gws["flow"].errors) >= 1, timeout=20)
        received: list[tuple[str, bytes]] = []
        while not probe.messages.empty():
            received.append(probe.messages.get())
        oversize = probe.publish(
            readings_topic(mallory.gateway_id, mallory.serials["scale"]),
            b"[" + b" " * MAX_PACKET_SIZE + b"]",
        )
        tally.check("packet over max_packet_size", oversize is None or oversize.is_failure)
    return received


def _hub_identity(
    settings: Settings, tally: Tally, protocol: MQTTProtocolVersion, **gws: Any
) -> None:
    legit = gws["legit"]
    hub = session(
        settings,
        username=settings.mqtt_hub_username,
        password=settings.mqtt_hub_password.get_secret_value(),
        protocol=protocol,
        client_id=probe_id(),
    )
    with hub:
        assert not hub.connect().is_failure
        forged = orjson.dumps(weight_point(99.0, now_minus(hours=4)))
        topic = readings_topic(legit.gateway_id, legit.serials["scale"])
        tally.check(
            "hub identity publishes readings", publish_refused(hub.publish(topic, forged), protocol)
        )


def _burst(
    settings: Settings, tally: Tally, protocol: MQTTProtocolVersion, n: int, victim: Any
) -> None:
    def attempt(i: int) -> bool:
        return login_refused(
            settings, username=victim.gateway_id, password=f"guess-{i:06d}", protocol=protocol
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for refused in pool.map(attempt, range(n)):
            tally.check("bad login in a burst", refused)


@pytest.mark.parametrize("version", sorted(PROTOCOLS))
def test_denied_clients_store_nothing_while_a_gateway_keeps_flowing(
    settings: Settings,
    api: TestClient,
    conn: psycopg.Connection[Any],
    proof: ProofRow,
    proof_profile: Profile,
    version: str,
) -> None:
    protocol = PROTOCOLS[version]
    burst = proof_profile.pick(ci=40, full=400)
    gws: dict[str, Any] = {
        name: provision(api, kinds=["scale"]) for name in ("legit", "victim", "mallory", "disabled")
    }
    assert api.post(f"/api/v1/gateways/{gws['disabled'].gateway_id}/disable").status_code == 200
    proof.load = f"MQTT {version}: 1 gateway publishing every 20 ms; {burst} bad logins in a burst"
    tally = Tally()
    running = start_worker(settings)
    try:
        legit = gws["legit"]
        with LegitFlow(
            settings, gateway_id=legit.gateway_id, password=legit.password,
            serial=legit.serials["scale"], protocol=protocol,
        ) as flow:  # fmt: skip
            assert flow.connected
            gws["flow"] = flow
            _logins(settings, tally, protocol, **gws)
            received = _cross_gateway(settings, tally, protocol, **gws)
            _hub_identity(settings, tally, protocol, **gws)
            _burst(settings, tally, protocol, burst, gws["victim"])
            published = flow.stop()
        serial = legit.serials["scale"]
        assert wait_until(lambda: device_readings(conn, serial) >= published, timeout=60)
        # The broker is up and still lets the legitimate gateway in.
        assert login_works(
            host=settings.mqtt_host, port=settings.mqtt_port, username=legit.gateway_id,
            password=legit.password, client_id=legit.gateway_id,
        )  # fmt: skip
    finally:
        running.stop.set()
        running.thread.join(timeout=20)
    denied_stored = sum(
        device_readings(conn, gws[name].serials["scale"])
        for name in ("victim", "mallory", "disabled")
    )
    denied_stored += count(  # the hub identity's forged reading (4 h ago) on the legit device
        conn, "SELECT count(*) FROM readings WHERE measured_at < now() - interval '3 hours'"
    )
    stored = device_readings(conn, serial)
    proof.faults = f"{tally.tried} denied attempts; stored from denied: {denied_stored}"
    proof.published, proof.stored = published, stored
    proof.duplicated, proof.lost = duplicated_readings(conn), max(published - stored, 0)
    proof.bad_tried, proof.bad_rejected = tally.tried, tally.refused
    assert tally.failures == []
    assert received == []  # nothing reached Mallory's refused subscriptions
    assert denied_stored == 0
    victim = gws["victim"].gateway_id
    assert (
        count(conn, "SELECT count(*) FROM gateways WHERE id = %s AND presence IS NOT NULL", victim)
        == 0
    )
    assert count(conn, "SELECT count(*) FROM device_meta") == 0
    assert (stored, proof.duplicated) == (published, 0)
    assert published > 50  # the flow kept going through every attempt
