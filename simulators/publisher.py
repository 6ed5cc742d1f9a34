"""Play a simulated cohort to the hub over MQTT, one paho client per gateway.

Each gateway connects with the credentials the hub provisioned (user name and
client id = gateway id), sets its Last Will (``offline``, retained, QoS 1) on
its status topic, publishes ``online`` (retained) on connect, subscribes to its
``errors`` topic, and publishes its readings at QoS 1 (contract section 1).

Playback is real time (``speed=1``), accelerated (``speed=43_200`` plays 30
days in a minute) or as fast as possible (``speed=0``). With ``follow`` the
cohort keeps going in real time after its window, until ``stop`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest.topics import errors_topic, readings_topic, status_topic
from simulators.cohort import Cohort
from simulators.exceptions import ConnectRefusedError, MqttError
from simulators.models import EventKind, SimEvent
from simulators.provision import ProvisionedCohort, ProvisionedGateway

log = logging.getLogger(__name__)

_FOLLOW_STEP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SimulationStats:
    """What a simulation sent and heard back."""

    published: int
    acked: int
    errors_received: int
    rejections: Mapping[str, int]
    points: int
    valid_points: int
    malformed: int
    late_batches: int
    elapsed_s: float


@dataclass
class _Tally:
    """Counters shared by the publishing thread and paho's network threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    published: int = 0
    acked: int = 0
    errors: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    points: int = 0
    valid_points: int = 0
    malformed: int = 0
    late_batches: int = 0
    last_error_at: float = 0.0

    def snapshot(self, elapsed_s: float) -> SimulationStats:
        with self.lock:
            return SimulationStats(
                published=self.published,
                acked=self.acked,
                errors_received=self.errors,
                rejections=dict(self.rejections),
                points=self.points,
                valid_points=self.valid_points,
                malformed=self.malformed,
                late_batches=self.late_batches,
                elapsed_s=elapsed_s,
            )


class _GatewayLink:
    """One simulated gateway's MQTT connection."""

    def __init__(self, gateway: ProvisionedGateway, tally: _Tally, protocol: int) -> None:
        self.gateway = gateway
        self.tally = tally
        self.protocol = protocol
        self.connected = threading.Event()
        self.refused: str | None = None
        # mid -> whether it is a reading; acks that beat publish() back are parked.
        self._pending: dict[int, bool] = {}
        self._early: set[int] = set()
        v5 = protocol == mqtt.MQTTv5
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=gateway.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        self.client.username_pw_set(gateway.mqtt_username, gateway.password)
        self.client.will_set(status_topic(gateway.gateway_id), b"offline", qos=1, retain=True)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    def start(self, host: str, port: int, keepalive_s: int) -> None:
        self.client.connect_async(host, port, keepalive=keepalive_s)
        self.client.loop_start()

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            log.error(
                "gateway connect refused",
                extra={"gateway_id": self.gateway.gateway_id, "reason": str(reason)},
            )
            return
        client.subscribe(errors_topic(self.gateway.gateway_id), qos=1)
        self._publish(status_topic(self.gateway.gateway_id), b"online", retain=True, reading=False)
        self.connected.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        _reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        with self.tally.lock:
            reading = self._pending.pop(mid, None)
            if reading is None:
                self._early.add(mid)
            elif reading:
                self.tally.acked += 1

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            error = orjson.loads(msg.payload)
            code = str(error.get("code", "unknown")) if isinstance(error, dict) else "unparseable"
        except orjson.JSONDecodeError:
            error, code = {}, "unparseable"
        with self.tally.lock:
            self.tally.errors += 1
            self.tally.rejections[code] += 1
            self.tally.last_error_at = time.monotonic()
        log.info(
            "gateway rejection",
            extra={
                "gateway_id": self.gateway.gateway_id,
                "device_serial": error.get("device_serial") if isinstance(error, dict) else None,
                "header_id": error.get("header_id") if isinstance(error, dict) else None,
                "code": code,
            },
        )

    def _publish(self, topic: str, payload: bytes, *, retain: bool, reading: bool) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self.tally.lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                self.tally.acked += int(reading)
            else:
                self._pending[info.mid] = reading

    def send(self, event: SimEvent) -> None:
        topic = readings_topic(self.gateway.gateway_id, event.device_serial)
        self._publish(topic, event.payload, retain=False, reading=True)
        with self.tally.lock:
            self.tally.published += 1
            self.tally.points += event.n_points
            self.tally.valid_points += event.n_valid
            self.tally.malformed += int(event.kind is EventKind.MALFORMED)
            self.tally.late_batches += int(event.kind is EventKind.LATE_BATCH)

    def close(self) -> None:
        if self.connected.is_set():
            info = self.client.publish(status_topic(self.gateway.gateway_id), b"offline", 1, True)
            try:
                info.wait_for_publish(timeout=5.0)
            except (RuntimeError, ValueError) as exc:
                log.warning(
                    "offline status not sent",
                    extra={"gateway_id": self.gateway.gateway_id, "cause": str(exc)},
                )
        self.client.disconnect()
        self.client.loop_stop()


def run_simulation(
    cohort: Cohort,
    provisioned: ProvisionedCohort,
    *,
    host: str,
    port: int,
    speed: float = 43_200.0,
    protocol: int = mqtt.MQTTv311,
    follow: bool = False,
    stop: threading.Event | None = None,
    keepalive_s: int = 30,
    connect_timeout_s: float = 30.0,
    max_outstanding: int = 5_000,
    drain_timeout_s: float = 60.0,
    errors_grace_s: float = 2.0,
    on_progress: Callable[[SimulationStats], None] | None = None,
    progress_every_s: float = 5.0,
) -> SimulationStats:
    """Publish the cohort's window of events, then (``follow``) keep going in real time.

    Waits for every gateway to connect (a refusal raises
    :class:`~simulators.exceptions.ConnectRefusedError`), plays the events, waits
    up to ``drain_timeout_s`` for the broker's acknowledgements and then until
    no rejection has arrived for ``errors_grace_s``, and disconnects cleanly.
    """
    if speed < 0:
        msg = f"speed must be >= 0, got {speed}"
        raise ValueError(msg)
    missing = set(cohort.gateways) - set(provisioned.gateways)
    if missing:
        msg = f"{len(missing)} gateways of the cohort were not provisioned, e.g. {min(missing)}"
        raise ValueError(msg)
    stop = stop if stop is not None else threading.Event()
    tally = _Tally()
    links = {
        key: _GatewayLink(provisioned.gateways[key], tally, protocol) for key in cohort.gateways
    }
    started = time.monotonic()
    try:
        for link in links.values():
            link.start(host, port, keepalive_s)
        _wait_connected(links, connect_timeout_s)
        log.info("simulation started", extra={"gateways": len(links), "speed": speed})
        reporter = _Reporter(tally, started, on_progress, progress_every_s, last=started)
        backfill = _Schedule(speed=speed, origin=cohort.start)
        _play(cohort.events(), links, tally, backfill, stop, max_outstanding, reporter)
        if follow:
            live = _Schedule(speed=1.0, origin=None)
            _play(_follow(cohort, stop), links, tally, live, stop, max_outstanding, reporter)
        _drain(tally, drain_timeout_s, errors_grace_s)
    finally:
        for link in links.values():
            link.close()
    stats = tally.snapshot(time.monotonic() - started)
    log.info("simulation finished", extra={"published": stats.published, "acked": stats.acked})
    return stats


def _wait_connected(links: Mapping[str, _GatewayLink], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for link in links.values():
        while not link.connected.wait(0.05):
            if link.refused is not None:
                msg = f"gateway {link.gateway.gateway_id} refused: {link.refused}"
                raise ConnectRefusedError(msg, code=-1)
            if time.monotonic() > deadline:
                msg = f"gateway {link.gateway.gateway_id} did not connect in {timeout_s:g} s"
                raise MqttError(msg)


@dataclass
class _Reporter:
    tally: _Tally
    started: float
    callback: Callable[[SimulationStats], None] | None
    every_s: float
    last: float = 0.0

    def tick(self) -> None:
        now = time.monotonic()
        if self.callback is not None and now - self.last >= self.every_s:
            self.last = now
            self.callback(self.tally.snapshot(now - self.started))


@dataclass(frozen=True, slots=True)
class _Schedule:
    """Sim time scaled by ``speed`` from ``origin``; wall-clock UTC when ``origin`` is None."""

    speed: float
    origin: datetime | None

    def delay_s(self, due: datetime, wall0: float) -> float:
        if self.origin is None:
            return (due - datetime.now(UTC)).total_seconds()
        if self.speed == 0:
            return 0.0
        return wall0 + (due - self.origin).total_seconds() / self.speed - time.monotonic()


def _play(
    events: Iterator[SimEvent],
    links: Mapping[str, _GatewayLink],
    tally: _Tally,
    schedule: _Schedule,
    stop: threading.Event,
    max_outstanding: int,
    reporter: _Reporter,
) -> None:
    """Send each event when the schedule says it is due, until ``stop`` is set."""
    wall0 = time.monotonic()
    for event in events:
        delay = schedule.delay_s(event.due, wall0)
        while delay > 0:
            step = min(delay, 1.0)
            if stop.wait(step):
                return
            delay -= step
            reporter.tick()
        while tally.published - tally.acked > max_outstanding:
            if stop.wait(0.01):
                return
        if stop.is_set():
            return
        links[event.gateway_key].send(event)
        reporter.tick()


def _follow(cohort: Cohort, stop: threading.Event) -> Iterator[SimEvent]:
    """The cohort's events after its window, an hour at a time, until stopped."""
    lo = cohort.end
    while not stop.is_set():
        # Do not run far ahead of the clock through hours without any event.
        ahead_s = (lo - datetime.now(UTC)).total_seconds() - _FOLLOW_STEP.total_seconds()
        if ahead_s > 0 and stop.wait(ahead_s):
            return
        yield from cohort.events(lo, lo + _FOLLOW_STEP)
        lo += _FOLLOW_STEP


def _drain(tally: _Tally, drain_timeout_s: float, errors_grace_s: float) -> None:
    deadline = time.monotonic() + drain_timeout_s
    while tally.acked < tally.published and time.monotonic() < deadline:
        time.sleep(0.05)
    if tally.acked < tally.published:
        log.warning(
            "not every reading was acknowledged",
            extra={"published": tally.published, "acked": tally.acked},
        )
    quiet_since = time.monotonic()
    while True:
        with tally.lock:
            last = max(tally.last_error_at, quiet_since)
        if time.monotonic() - last >= errors_grace_s:
            return
        time.sleep(0.05)
