"""What fault tests watch besides the database: the broker's $SYS counters and the worker.

:class:`SysWatch` subscribes (with the hub's credentials; its role may read
``$SYS/#``) to the broker's dropped-message counter and its message-store
count. Mosquitto checks its counters every ``sys_interval`` (10 s,
hub/services/mosquitto_conf.py) and publishes one only when it changed, and
the uptime on every tick, so a value is known current once a tick has been
seen after the moment of interest (:meth:`SysWatch.wait_tick`). Mosquitto
2.0 publishes the dropped counter retained but with a 60 s expiry, so a new
subscriber may get no value at all: the counter then has not changed for a
minute, and :meth:`SysWatch.dropped_since` counts from the last value seen
before the moment given, or from 0 when there is none (exact for a broker
that never dropped anything, and any drop after the moment still shows as
a positive difference).

:class:`IngestProcess` is ``lastmile ingest`` as a child process (logging at
INFO, so its structured "mqtt connected" lines with ``session_present`` are
in its log), with SIGKILL, restart and /proc memory readings.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.settings import Settings
from ingest.session import spawn_ingest

DROPPED = "$SYS/broker/publish/messages/dropped"
STORED = "$SYS/broker/store/messages/count"
UPTIME = "$SYS/broker/uptime"


@dataclass
class SysWatch:
    """The broker's counters over time: ``{topic: [(monotonic time, value), ...]}``."""

    settings: Settings
    values: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    _client: mqtt.Client | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Self:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"fault-sys-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        s = self.settings
        client.username_pw_set(s.mqtt_hub_username, s.mqtt_hub_password.get_secret_value())
        client.on_message = self._on_message
        client.on_connect = lambda c, *_: c.subscribe([(DROPPED, 0), (STORED, 0), (UPTIME, 0)])
        client.connect(s.mqtt_host, s.mqtt_port)
        client.loop_start()
        self._client = client
        assert self._wait(lambda: UPTIME in self.values, 15), (
            f"no retained {UPTIME}: can the hub's user read $SYS?"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._client is not None
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        value = int(msg.payload.split()[0])  # "1234" or "5 seconds"
        with self._lock:
            self.values.setdefault(msg.topic, []).append((time.monotonic(), value))

    def _wait(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return bool(predicate())

    def latest(self, topic: str) -> int:
        with self._lock:
            return self.values[topic][-1][1]

    def dropped_since(self, moment: float) -> int:
        """How far the dropped-messages counter moved after ``moment`` (monotonic)."""
        with self._lock:
            seen = self.values.get(DROPPED, [])
            before = [v for t, v in seen if t <= moment]
            base = before[-1] if before else 0
            return (seen[-1][1] if seen else base) - base

    def wait_tick(self, after: float | None = None, timeout: float = 30) -> float:
        """Wait for a $SYS tick later than ``after`` (default: now); its time."""
        moment = time.monotonic() if after is None else after

        def ticked() -> bool:
            with self._lock:
                return any(t > moment for t, _ in self.values.get(UPTIME, []))

        assert self._wait(ticked, timeout), "no $SYS tick: is sys_interval set?"
        time.sleep(0.5)  # the rest of the tick's burst
        with self._lock:
            return next(t for t, _ in self.values[UPTIME] if t > moment)

    def samples(self, topic: str, since: float, until: float) -> list[tuple[float, int]]:
        with self._lock:
            return [(t, v) for t, v in self.values.get(topic, []) if since <= t <= until]


@dataclass
class IngestProcess:
    """``lastmile ingest`` as a child process; see the module docstring."""

    settings: Settings
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    #: Settings for the child beyond ``settings`` (``LASTMILE_...`` variables).
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> Self:
        self.proc = spawn_ingest(self.settings, log=self.log, log_level="INFO", **self.env)
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, like a crash or the OOM killer: nothing is finished or acked."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.kills += 1

    def stop(self) -> int:
        """SIGTERM, an orderly stop; the exit code."""
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=30)

    def rss_kb(self) -> int:
        """The worker process's resident memory (VmRSS), in kB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])

    def all_events(self) -> list[dict[str, Any]]:
        """The log's structured events, in order (lines that are not JSON skipped)."""
        found = []
        for line in self.log.read_bytes().splitlines():
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log's structured events called ``name``, in order."""
        return [e for e in self.all_events() if e.get("event") == name]

    def session_present(self) -> list[bool]:
        """``session_present`` of every connection the worker made, in order."""
        return [bool(e["session_present"]) for e in self.events("mqtt connected")]

    def wait_connected(self, timeout: float = 30.0) -> bool:
        """Wait until every start has logged its MQTT connection (a worker killed
        while still starting would log none)."""
        deadline = time.monotonic() + timeout
        while len(self.session_present()) < self.starts:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            self.stop()
