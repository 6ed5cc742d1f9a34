"""The ingest worker as a child process, and its persistent MQTT session.

The hub's one worker is the client ``mqtt_ingest_client_id`` with plain
subscriptions; a worker of several (``ingest_slot`` set) is
``<mqtt_ingest_client_id>-<slot>``, subscribed through shared subscriptions
of the group named by ``mqtt_ingest_client_id`` (:func:`ingest_client_id`,
:func:`topic_filters`; docs/scaling.md).

>>> from hub.settings import Settings
>>> one = Settings(environment="development")
>>> ingest_client_id(one), topic_filters(one)[0]
('lastmile-ingest', ('lastmile/v1/gateways/+/devices/+/readings', 1))
>>> slot = one.model_copy(update={"ingest_slot": 2})
>>> ingest_client_id(slot), topic_filters(slot)[0]
('lastmile-ingest-2', ('$share/lastmile-ingest/lastmile/v1/gateways/+/devices/+/readings', 1))
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.services import mq_save
from hub.services.exceptions import ServicesError
from hub.settings import Settings
from ingest.routing import SUBSCRIPTIONS

log = logging.getLogger(__name__)

#: How long to wait for the broker's save after asking for it.
SAVE_TIMEOUT_S = 15.0


def ingest_client_id(settings: Settings) -> str:
    """The ingest worker's MQTT client id: its slot's, if it is one of several."""
    base = settings.mqtt_ingest_client_id
    return base if settings.ingest_slot is None else f"{base}-{settings.ingest_slot}"


def topic_filters(settings: Settings) -> list[tuple[str, int]]:
    """What the worker subscribes to, with the QoS of each: shared if it has a slot."""
    if settings.ingest_slot is None:
        return [(sub.topic_filter, sub.qos) for sub in SUBSCRIPTIONS]
    group = settings.mqtt_ingest_client_id
    return [(f"$share/{group}/{sub.topic_filter}", sub.qos) for sub in SUBSCRIPTIONS]


def spawn_ingest(
    settings: Settings, *, log: Path | None = None, log_level: str = "WARNING", **env: str
) -> subprocess.Popen[bytes]:
    """Start ``lastmile ingest`` for ``settings`` (stderr appended to ``log``), as
    ``settings.ingest_slot`` if it is set."""
    argv = [sys.executable, "-m", "lastmile", "--log-level", log_level, "ingest"]
    if settings.ingest_slot is not None:
        argv += ["--slot", str(settings.ingest_slot)]
    if log is None:
        return subprocess.Popen(argv, env=settings.subprocess_env(**env))
    with log.open("ab") as sink:
        return subprocess.Popen(
            argv, env=settings.subprocess_env(**env), stdout=subprocess.DEVNULL, stderr=sink
        )


def discard_session(settings: Settings, client_id: str | None = None) -> None:
    """End a persistent MQTT session, so the broker stops queueing for it.

    Connecting with a clean session discards what the broker kept for that
    client id. For test, benchmark and evaluation workers, never for the
    hub's own running ingest session.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or settings.mqtt_ingest_client_id,
        clean_session=True,
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    client.username_pw_set(
        settings.mqtt_hub_username, settings.mqtt_hub_password.get_secret_value()
    )
    try:
        client.connect(settings.mqtt_host, settings.mqtt_port)
    except OSError:
        return
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def persist_new_session(settings: Settings) -> bool:
    """Make a new ingest session survive a broker crash from now on.

    Mosquitto writes sessions to disk only every ``autosave_interval``
    seconds; until then a crash forgets a brand-new session and its
    subscriptions, and the broker acknowledges and drops every reading
    published before the worker subscribes again. When the broker is the
    hub's own private instance, ask it to save now (SIGUSR1). Returns whether
    it saved; an external broker is left to its autosave, and a warning says so.
    """
    try:
        mq_save(settings, timeout=SAVE_TIMEOUT_S)
    except ServicesError as exc:
        log.warning(
            "mqtt session not saved; a broker crash before its next autosave loses it",
            extra={"reason": str(exc)},
        )
        return False
    log.info("mqtt session saved by the broker")
    return True
