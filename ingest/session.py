"""The ingest worker as a child process, and its persistent MQTT session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.settings import Settings


def spawn_ingest(
    settings: Settings, *, log: Path | None = None, log_level: str = "WARNING", **env: str
) -> subprocess.Popen[bytes]:
    """Start ``lastmile ingest`` for ``settings`` (stderr appended to ``log``)."""
    argv = [sys.executable, "-m", "hub", "--log-level", log_level, "ingest"]
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
