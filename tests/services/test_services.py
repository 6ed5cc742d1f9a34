"""The private services, for real: PostgreSQL + TimescaleDB and Mosquitto with dynsec.

Run with the test data folder and ports, e.g.::

    LASTMILE_DATA_DIR=$PWD/.lastmile-test LASTMILE_PG_PORT=55433 \\
    LASTMILE_MQTT_PORT=18884 LASTMILE_ENVIRONMENT=development pytest tests/services
"""

from __future__ import annotations

import queue
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.services import SecretsError, ensure_secrets, status, up
from hub.services.dynsec import DynsecClient, feed_role
from hub.services.exceptions import DynsecAlreadyExistsError
from hub.services.hub_user import login_works
from hub.services.mosquitto_conf import mosquitto_paths, render_conf
from hub.services.secrets import SECRET_FIELDS
from hub.settings import Settings, load_settings
from ingest.session import persist_new_session, topic_filters
from tests.conftest import TEST_OVERRIDES

pytestmark = pytest.mark.services

TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def settings() -> Settings:
    return up(load_settings(**TEST_OVERRIDES))


@pytest.fixture
def gateways(settings: Settings) -> Iterator[dict[str, str]]:
    """Two freshly provisioned gateways, id -> password; deleted afterwards."""
    created = {f"gw-test-{uuid.uuid4().hex[:12]}": uuid.uuid4().hex for _ in range(2)}
    with DynsecClient.from_settings(settings) as dynsec:
        for gateway_id, password in created.items():
            dynsec.create_gateway_client(gateway_id, password)
    yield created
    with DynsecClient.from_settings(settings) as dynsec:
        for gateway_id in created:
            dynsec.delete_gateway_client(gateway_id)


class Session:
    """A connected paho client whose events arrive on queues (for assertions)."""

    def __init__(
        self,
        settings: Settings,
        *,
        username: str | None,
        password: str | None,
        client_id: str = "",
        protocol: int = mqtt.MQTTv311,
        clean_session: bool = True,
    ) -> None:
        self.connacks: queue.Queue[ReasonCode] = queue.Queue()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{uuid.uuid4().hex[:12]}",
            protocol=MQTTProtocolVersion(protocol),
            clean_session=clean_session if protocol != mqtt.MQTTv5 else None,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda _c, _u, _f, reason, _p: self.connacks.put(reason)
        self.client.on_subscribe = lambda _c, _u, _m, reasons, _p: self.subacks.put(reasons)
        self.client.on_message = lambda _c, _u, message: self.messages.put(message)
        self.client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10)
        self.client.loop_start()
        self.connack = self.connacks.get(timeout=TIMEOUT_S)

    def subscribe(self, topic: str) -> ReasonCode:
        self.client.subscribe(topic, qos=1)
        return self.subacks.get(timeout=TIMEOUT_S)[0]

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=TIMEOUT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def hub_session(settings: Settings) -> Iterator[Session]:
    session = Session(
        settings,
        username=settings.mqtt_hub_username,
        password=settings.mqtt_hub_password.get_secret_value(),
    )
    assert not session.connack.is_failure
    yield session
    session.close()


def can_login(settings: Settings, username: str, password: str, *, client_id: str) -> bool:
    return login_works(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        username=username,
        password=password,
        client_id=client_id,
    )


def readings_topic(gateway_id: str, serial: str = "dev-1") -> str:
    return f"lastmile/v1/gateways/{gateway_id}/devices/{serial}/readings"


def test_up_is_idempotent(settings: Settings) -> None:
    before = status(settings)
    assert all(service.running for service in before)
    again = up(load_settings(**TEST_OVERRIDES))
    after = status(again)
    assert [service.pid for service in after] == [service.pid for service in before]
    assert again.pg_password == settings.pg_password
    assert again.mqtt_hub_password == settings.mqtt_hub_password


def test_timescaledb_is_preloaded(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        version = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    assert version is not None
    assert version[0]
    assert preload is not None
    assert "timescaledb" in preload[0]
    assert sync == ("on",)


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["v311", "v5"])
def test_anonymous_connect_is_refused(settings: Settings, protocol: int) -> None:
    session = Session(settings, username=None, password=None, protocol=protocol)
    try:
        assert session.connack.is_failure
    finally:
        session.close()


def test_gateway_publishes_only_under_its_own_topics(
    settings: Settings, gateways: dict[str, str], hub_session: Session
) -> None:
    (gw_a, password_a), (gw_b, _) = gateways.items()
    for gateway_id in gateways:
        assert not hub_session.subscribe(readings_topic(gateway_id, "+")).is_failure
    gateway = Session(settings, username=gw_a, password=password_a, client_id=gw_a)
    try:
        assert not gateway.connack.is_failure
        # Denied first, then allowed: the broker handles one connection's
        # publishes in order, so once the allowed one arrives the denied one
        # would have arrived before it.
        gateway.publish(readings_topic(gw_b), b"forged")
        gateway.publish(readings_topic(gw_a), b"own")
        received = hub_session.messages.get(timeout=TIMEOUT_S)
        assert (received.topic, received.payload) == (readings_topic(gw_a), b"own")
        time.sleep(0.2)
        assert hub_session.messages.empty()
        # A gateway subscribes only to its own errors topic.
        assert not gateway.subscribe(f"lastmile/v1/gateways/{gw_a}/errors").is_failure
        assert gateway.subscribe(f"lastmile/v1/gateways/{gw_b}/errors").is_failure
        assert gateway.subscribe("lastmile/v1/gateways/+/devices/+/readings").is_failure
    finally:
        gateway.close()


def test_pharmacy_feed_publishes_only_its_own_dispenses(
    settings: Settings, gateways: dict[str, str], hub_session: Session
) -> None:
    feed_a, feed_b = (f"ph-test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    password = uuid.uuid4().hex
    with DynsecClient.from_settings(settings) as dynsec:
        dynsec.create_feed_client(feed_a, password)
    own = f"lastmile/v1/pharmacies/{feed_a}/dispenses"
    forged = f"lastmile/v1/pharmacies/{feed_b}/dispenses"
    assert not hub_session.subscribe("lastmile/v1/pharmacies/+/dispenses").is_failure
    assert not hub_session.subscribe(readings_topic("+", "+")).is_failure
    feed = Session(settings, username=feed_a, password=password, client_id=feed_a)
    try:
        assert not feed.connack.is_failure
        # Denied ones first (see the gateway test above for why this order).
        feed.publish(forged, b"forged")
        feed.publish(readings_topic(next(iter(gateways))), b"forged reading")
        feed.publish(f"lastmile/v1/pharmacies/{feed_a}/errors", b"forged error")
        feed.publish(own, b"own")
        received = hub_session.messages.get(timeout=TIMEOUT_S)
        assert (received.topic, received.payload) == (own, b"own")
        time.sleep(0.2)
        assert hub_session.messages.empty()
        assert not feed.subscribe(f"lastmile/v1/pharmacies/{feed_a}/errors").is_failure
        assert feed.subscribe(f"lastmile/v1/pharmacies/{feed_b}/errors").is_failure
        assert feed.subscribe("lastmile/v1/pharmacies/+/dispenses").is_failure
    finally:
        feed.close()
        with DynsecClient.from_settings(settings) as dynsec:
            dynsec.delete_confined_client(feed_a, feed_role(feed_a))
    assert not can_login(settings, feed_a, password, client_id=feed_a)


def test_hub_subscriptions(settings: Settings, hub_session: Session) -> None:
    readings = "lastmile/v1/gateways/+/devices/+/readings"
    assert not hub_session.subscribe(f"$share/test/{readings}").is_failure
    assert not hub_session.subscribe("$SYS/broker/publish/messages/dropped").is_failure
    assert hub_session.subscribe("lastmile/#").is_failure
    # A worker of several subscribes through its group's shared subscriptions;
    # the broker checks the share prefix as written.
    shared = topic_filters(settings.model_copy(update={"ingest_slot": 0}))
    assert all(topic.startswith("$share/") for topic, _ in shared)
    for topic, qos in shared:
        assert qos == 1
        assert not hub_session.subscribe(topic).is_failure, topic
    assert hub_session.subscribe("$share/test/lastmile/#").is_failure
    assert hub_session.subscribe("$share/test/$SYS/#").is_failure


def test_offline_ingest_session_keeps_more_than_the_default_queue(
    settings: Settings, gateways: dict[str, str]
) -> None:
    """Mosquitto's default queue is 1,000 messages; ours keeps far more for an away consumer."""
    gateway_id, password = next(iter(gateways.items()))
    client_id = f"test-ingest-{uuid.uuid4().hex[:12]}"

    def ingest(*, clean_session: bool) -> Session:
        return Session(
            settings,
            username=settings.mqtt_hub_username,
            password=settings.mqtt_hub_password.get_secret_value(),
            client_id=client_id,
            clean_session=clean_session,
        )

    count, payload = 3_000, b"x" * 600
    consumer = ingest(clean_session=False)
    assert not consumer.subscribe(readings_topic(gateway_id, "+")).is_failure
    assert not consumer.subscribe("$SYS/#").is_failure
    consumer.close()
    gateway = Session(settings, username=gateway_id, password=password, client_id=gateway_id)
    try:
        infos = [
            gateway.client.publish(readings_topic(gateway_id), payload, qos=1) for _ in range(count)
        ]
        for info in infos:
            info.wait_for_publish(timeout=TIMEOUT_S)
    finally:
        gateway.close()
    consumer = ingest(clean_session=False)
    try:
        got = 0
        while got < count:
            message = consumer.messages.get(timeout=TIMEOUT_S)
            got += message.topic == readings_topic(gateway_id)
        assert got == count
    finally:
        consumer.close()
        ingest(clean_session=True).close()  # discard the persistent session


def test_wrong_password_and_foreign_client_id_are_refused(
    settings: Settings, gateways: dict[str, str]
) -> None:
    gateway_id, password = next(iter(gateways.items()))
    assert can_login(settings, gateway_id, password, client_id=gateway_id)
    assert not can_login(settings, gateway_id, password + "x", client_id=gateway_id)
    assert not can_login(settings, gateway_id, password, client_id=f"{gateway_id}-other")


def test_provisioning_twice_needs_replace(settings: Settings, gateways: dict[str, str]) -> None:
    gateway_id = next(iter(gateways))
    with DynsecClient.from_settings(settings) as dynsec:
        with pytest.raises(DynsecAlreadyExistsError):
            dynsec.create_gateway_client(gateway_id, "new-password-1")
        dynsec.create_gateway_client(gateway_id, "new-password-2", replace=True)
        assert can_login(settings, gateway_id, "new-password-2", client_id=gateway_id)
        dynsec.disable_client(gateway_id)
        assert not can_login(settings, gateway_id, "new-password-2", client_id=gateway_id)
        assert dynsec.get_default_acl_access()["publishClientSend"] is False
        assert dynsec.get_default_acl_access()["subscribe"] is False


def test_secrets_are_generated_once(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, environment="development")
    first = ensure_secrets(base)
    env_file = tmp_path / "lastmile.env"
    text = env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert all(name in text for name in SECRET_FIELDS.values())
    assert len(first.pg_password.get_secret_value()) >= 32
    second = ensure_secrets(base)
    assert env_file.read_text() == text
    assert second.pg_password == first.pg_password
    assert load_settings(data_dir=tmp_path).admin_token == first.admin_token


def test_secrets_are_required_outside_development(tmp_path: Path) -> None:
    production = Settings.model_construct(data_dir=tmp_path, environment="production")
    with pytest.raises(SecretsError):
        ensure_secrets(production)
    assert not (tmp_path / "lastmile.env").exists()


def test_broker_queues_cover_a_fifteen_minute_ingest_outage(settings: Settings) -> None:
    conf = render_conf(settings, plugin=Path("/plugin.so"), run_as=None)
    values = {
        line.split()[0]: line.split()[1]
        for line in conf.splitlines()
        if line and not line.startswith("#") and len(line.split()) == 2
    }
    assert int(values["max_queued_messages"]) >= 15 * 60 * 1000
    assert int(values["max_queued_bytes"]) >= 15 * 60 * 1000 * 600
    assert int(values["max_inflight_messages"]) >= 25_000 * 0.05
    assert values["allow_anonymous"] == "false"


def test_a_new_session_is_saved_only_by_the_hubs_own_broker(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = mosquitto_paths(settings).data / "mosquitto.db"
    before = db.stat().st_mtime if db.exists() else 0.0
    assert persist_new_session(settings)
    assert db.stat().st_mtime > before
    # A broker the hub did not start (another host, a container) cannot be
    # signalled: the worker says so and leaves the session to its autosave.
    elsewhere = settings.model_copy(update={"data_dir": tmp_path})
    with caplog.at_level("WARNING", logger="ingest.session"):
        assert not persist_new_session(elsewhere)
    assert "broker crash before its next autosave" in caplog.text
