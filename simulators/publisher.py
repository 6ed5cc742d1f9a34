"""Play a simulated cohort to the hub over MQTT, one paho client per gateway.

Each gateway connects with the credentials the hub provisioned (user name and
client id = gateway id), sets its Last Will (``offline``, retained, QoS 1) on
its status topic, publishes ``online`` (retained) on connect, subscribes to its
``errors`` topic, and publishes its readings at QoS 1 (contract section 1).
With a provisioned pharmacy feed, one more client (MQTT 3.1.1, user name and
client id = feed id) publishes the cohort's fills (:mod:`simulators.pharmacy`)
at QoS 1 as JSON arrays on the feed's ``dispenses`` topic and counts the
rejections on its ``errors`` topic (contract section 2).

Playback is real time (``speed=1``), accelerated (``speed=43_200`` plays 30
days in a minute) or as fast as possible (``speed=0``). With ``follow`` the
cohort keeps going in real time after its window, until ``stop`` is set.
"""

from __future__ import annotations

import functools
import heapq
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Unpack

import paho.mqtt.client as mqtt

from hub.topics import errors_topic, readings_topic, status_topic
from simulators.cohort import Cohort
from simulators.models import EventKind, SimEvent
from simulators.mqttlink import CountingLink, LinkArgs
from simulators.pharmacy import CohortPharmacy, FillBatch, draw_pharmacy
from simulators.provision import ProvisionedCohort, ProvisionedFeed, ProvisionedGateway

log = logging.getLogger(__name__)

_FOLLOW_STEP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SimulationStats:
    """What a simulation sent and heard back (``fill*``: the pharmacy feed's dispenses)."""

    published: int
    acked: int
    errors_received: int
    rejections: Mapping[str, int]
    points: int
    valid_points: int
    malformed: int
    late_batches: int
    elapsed_s: float
    fills: int = 0
    fills_acked: int = 0
    fill_messages: int = 0
    fill_errors: int = 0
    fill_rejections: Mapping[str, int] = field(default_factory=dict)


@dataclass
class _Flow:
    """What one link sent (items, messages) and heard back (acked items, rejections)."""

    sent: int = 0
    messages: int = 0
    acked: int = 0
    errors: int = 0
    rejections: Counter[str] = field(default_factory=Counter)


@dataclass
class _Tally:
    """Counters shared by the publishing thread and paho's network threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    readings: _Flow = field(default_factory=_Flow)
    fills: _Flow = field(default_factory=_Flow)
    points: int = 0
    valid_points: int = 0
    malformed: int = 0
    late_batches: int = 0
    last_error_at: float = 0.0

    def snapshot(self, elapsed_s: float) -> SimulationStats:
        with self.lock:
            return SimulationStats(
                published=self.readings.sent,
                acked=self.readings.acked,
                errors_received=self.readings.errors,
                rejections=dict(self.readings.rejections),
                points=self.points,
                valid_points=self.valid_points,
                malformed=self.malformed,
                late_batches=self.late_batches,
                elapsed_s=elapsed_s,
                fills=self.fills.sent,
                fills_acked=self.fills.acked,
                fill_messages=self.fills.messages,
                fill_errors=self.fills.errors,
                fill_rejections=dict(self.fills.rejections),
            )

    def outstanding(self) -> bool:
        with self.lock:
            return any(f.acked < f.sent for f in (self.readings, self.fills))


class _TalliedLink(CountingLink):
    """A link that counts into one flow of the tally."""

    def __init__(self, *, tally: _Tally, flow: _Flow, **link: Unpack[LinkArgs]) -> None:
        super().__init__(lock=tally.lock, **link)
        self.tally = tally
        self.flow = flow

    def acked(self, items: int) -> None:
        self.flow.acked += items

    def rejected(self, code: str) -> None:
        self.flow.errors += 1
        self.flow.rejections[code] += 1
        self.tally.last_error_at = time.monotonic()

    def send_items(self, topic: str, payload: bytes, items: int) -> None:
        self.publish(topic, payload, items=items)
        with self.tally.lock:
            self.flow.sent += items
            self.flow.messages += 1


class _GatewayLink(_TalliedLink):
    """One simulated gateway's MQTT connection."""

    def __init__(self, gateway: ProvisionedGateway, tally: _Tally, protocol: int) -> None:
        super().__init__(
            tally=tally,
            flow=tally.readings,
            client_id=gateway.client_id,
            username=gateway.mqtt_username,
            password=gateway.password,
            errors_topic=errors_topic(gateway.gateway_id),
            protocol=protocol,
        )
        self.gateway = gateway
        self.client.will_set(status_topic(gateway.gateway_id), b"offline", qos=1, retain=True)

    def on_connected(self) -> None:
        self.publish(status_topic(self.gateway.gateway_id), b"online", items=0, retain=True)

    def send(self, event: SimEvent) -> None:
        topic = readings_topic(self.gateway.gateway_id, event.device_serial)
        self.send_items(topic, event.payload, 1)
        with self.tally.lock:
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
        super().close()


def _feed_link(feed: ProvisionedFeed, tally: _Tally) -> _TalliedLink:
    """The simulated pharmacy's feed: MQTT 3.1.1, one JSON array of dispenses per message."""
    return _TalliedLink(
        tally=tally,
        flow=tally.fills,
        client_id=feed.client_id,
        username=feed.mqtt_username,
        password=feed.password,
        errors_topic=feed.errors_topic,
        protocol=mqtt.MQTTv311,
    )


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
    feed: ProvisionedFeed | None = None,
) -> SimulationStats:
    """Publish the cohort's window of events, then (``follow``) keep going in real time.

    Waits for every gateway (and the pharmacy ``feed``, if given) to connect (a
    refusal raises :class:`~simulators.exceptions.ConnectRefusedError`), plays
    the events, waits up to ``drain_timeout_s`` for the broker's
    acknowledgements and then until no rejection has arrived for
    ``errors_grace_s``, and disconnects cleanly. With a ``feed``, the cohort's
    pharmacy fills (:func:`simulators.pharmacy.draw_pharmacy`) are played on
    the same clock: a fill is sent on the hour after it is handed over.
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
    feed_link = _feed_link(feed, tally) if feed is not None else None
    plan = draw_pharmacy(cohort) if feed is not None else None
    every: list[CountingLink] = [*links.values(), *([feed_link] if feed_link else [])]

    def send(event: SimEvent | FillBatch) -> None:
        if isinstance(event, FillBatch):
            if feed_link is not None and feed is not None:
                feed_link.send_items(feed.dispenses_topic, event.payload, len(event.fills))
        else:
            links[event.gateway_key].send(event)

    started = time.monotonic()
    try:
        for link in every:
            link.start(host, port, keepalive_s)
        for link in every:
            link.wait_connected(started + connect_timeout_s)
        log.info("simulation started", extra={"gateways": len(links), "speed": speed})
        reporter = _Reporter(tally, started, on_progress, progress_every_s, last=started)
        play = functools.partial(
            _play, send=send, tally=tally, stop=stop, limit=max_outstanding, reporter=reporter
        )
        play(_window(cohort, plan, cohort.start, cohort.end), _Schedule(speed, cohort.start))
        if follow:
            play(_follow(cohort, plan, stop), _Schedule(1.0, None))
        _drain(tally, drain_timeout_s, errors_grace_s)
    finally:
        for link in every:
            link.close()
    stats = tally.snapshot(time.monotonic() - started)
    log.info("simulation finished", extra={"published": stats.published, "acked": stats.acked})
    return stats


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


def _window(
    cohort: Cohort, plan: CohortPharmacy | None, lo: datetime, hi: datetime
) -> Iterator[SimEvent | FillBatch]:
    """The readings and (with a ``plan``) the pharmacy's messages due in ``[lo, hi)``."""
    streams: list[Iterator[SimEvent | FillBatch]] = [cohort.events(lo, hi)]
    if plan is not None:
        streams.append(plan.batches(lo, hi))
    return heapq.merge(*streams, key=lambda e: e.due)


def _play(
    events: Iterator[SimEvent | FillBatch],
    schedule: _Schedule,
    *,
    send: Callable[[SimEvent | FillBatch], None],
    tally: _Tally,
    stop: threading.Event,
    limit: int,
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
        while tally.readings.sent - tally.readings.acked > limit:
            if stop.wait(0.01):
                return
        if stop.is_set():
            return
        send(event)
        reporter.tick()


def _follow(
    cohort: Cohort, plan: CohortPharmacy | None, stop: threading.Event
) -> Iterator[SimEvent | FillBatch]:
    """The cohort's events after its window, an hour at a time, until stopped."""
    lo = cohort.end
    while not stop.is_set():
        # Do not run far ahead of the clock through hours without any event.
        ahead_s = (lo - datetime.now(UTC)).total_seconds() - _FOLLOW_STEP.total_seconds()
        if ahead_s > 0 and stop.wait(ahead_s):
            return
        yield from _window(cohort, plan, lo, lo + _FOLLOW_STEP)
        lo += _FOLLOW_STEP


def _drain(tally: _Tally, drain_timeout_s: float, errors_grace_s: float) -> None:
    deadline = time.monotonic() + drain_timeout_s
    while tally.outstanding() and time.monotonic() < deadline:
        time.sleep(0.05)
    if tally.outstanding():
        log.warning(
            "not every message was acknowledged",
            extra={
                "published": tally.readings.sent,
                "acked": tally.readings.acked,
                "fills": tally.fills.sent,
                "fills_acked": tally.fills.acked,
            },
        )
    quiet_since = time.monotonic()
    while True:
        with tally.lock:
            last = max(tally.last_error_at, quiet_since)
        if time.monotonic() - last >= errors_grace_s:
            return
        time.sleep(0.05)
