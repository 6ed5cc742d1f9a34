"""A steady QoS 1 load from many gateways, and its ledger of what the broker acknowledged.

Every reading is one body-weight data point of one gateway's scale, keyed by
``(serial, n)``: its effective time is ``plan.start + n * plan.step``, so the
readings stored can be mapped back to the keys published (:func:`stored_keys`).

:class:`PacedLoad` publishes the plan round-robin over the gateways at a fixed
rate from its own thread (paho, one client per gateway) and records every
reading whose PUBACK it saw, with when it saw it.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from fastapi.testclient import TestClient

from hub.settings import Settings
from tests.faults.observe import IngestProcess
from tests.support import (
    GatewayClient,
    ProvisionedGateway,
    count,
    now_minus,
    provision,
    wait_until,
    weight_point,
)

Keys = dict[str, set[int]]
#: Readings before ``start`` (n < 0) are sentinels, not part of the load.
SENTINEL = -1


@dataclass(frozen=True)
class Plan:
    """``per_device`` daily-weight-like readings of each gateway's one scale.

    Scales in ``episodes`` (gateway indices) gain ``gain_kg_per_day`` over the
    last ``episode_days`` of their series: a deterioration the detectors must
    alert on exactly once.
    """

    gateways: tuple[ProvisionedGateway, ...]
    per_device: int
    start: datetime
    step: timedelta
    episodes: frozenset[int] = frozenset()
    episode_days: float = 8.0
    gain_kg_per_day: float = 0.6
    seed: int = 7

    @property
    def total(self) -> int:
        return self.per_device * len(self.gateways)

    def serial(self, gateway: int) -> str:
        return self.gateways[gateway].serials["scale"]

    @property
    def episode_patients(self) -> set[str]:
        return {self.gateways[g].patient_id for g in self.episodes}

    @property
    def patients(self) -> list[str]:
        return [gw.patient_id for gw in self.gateways]

    @property
    def serials(self) -> list[str]:
        """The scales' serials (what the plan's readings are counted by)."""
        return [self.serial(g) for g in range(len(self.gateways))]

    def messages(self) -> Iterator[tuple[int, int, bytes]]:
        """``(gateway index, n, payload)``, n by n, each n round-robin over the gateways."""
        rng = random.Random(self.seed)
        episode_from = self.start + self.per_device * self.step - timedelta(days=self.episode_days)
        for n in range(self.per_device):
            at = self.start + n * self.step
            for g in range(len(self.gateways)):
                kg = 70.0 + 2 * g + rng.gauss(0, 0.1)
                if g in self.episodes and at > episode_from:
                    kg += self.gain_kg_per_day * (at - episode_from) / timedelta(days=1)
                yield g, n, orjson.dumps(weight_point(round(kg, 2), at))


def make_plan(
    api: TestClient, *, gateways: int, total: int, span_days: float = 80.0, **kwargs: Any
) -> Plan:
    """Provision ``gateways`` gateways (one patient and one scale each) and plan ``total``."""
    fleet = tuple(provision(api, kinds=["scale"]) for _ in range(gateways))
    per_device = -(-total // gateways)
    step = timedelta(days=span_days) / per_device
    start = now_minus(days=span_days + 2)
    return Plan(fleet, per_device, start, step, **kwargs)


def make_episode_plan(
    api: TestClient,
    *,
    episodes: int,
    controls: int,
    per_patient: int,
    span_days: float,
    episode_days: float,
) -> Plan:
    """Gateways ``0..episodes-1`` gain weight over the series' last ``episode_days``,
    the ``controls`` after them do not."""
    return make_plan(
        api,
        gateways=episodes + controls,
        total=per_patient * (episodes + controls),
        span_days=span_days,
        episodes=frozenset(range(episodes)),
        episode_days=episode_days,
    )


def ensure_session(
    settings: Settings, plan: Plan, conn: psycopg.Connection[Any], *, timeout: float = 60
) -> None:
    """Publish a sentinel until the worker stored it: its persistent session exists."""
    gw = plan.gateways[0]
    sentinel = weight_point(50.0, plan.start + SENTINEL * plan.step)
    deadline = time.monotonic() + timeout
    with GatewayClient(settings, gw.gateway_id, gw.password) as client:
        while time.monotonic() < deadline:
            client.publish_all(plan.serial(0), [sentinel])
            if wait_until(lambda: _sentinels(conn, plan) > 0, timeout=1):
                return
    raise AssertionError("the ingest worker did not store the sentinel reading")


def publish_while_away(
    worker: IngestProcess,
    plan: Plan,
    conn: psycopg.Connection[Any],
    *,
    rate: float,
    timeout: float,
) -> tuple[PacedLoad, float]:
    """Start the worker until its session exists, stop it, publish all of ``plan``.

    Returns the finished load and when the worker stopped (monotonic).
    """
    with worker:
        ensure_session(worker.settings, plan, conn)
    stopped_at = time.monotonic()
    load = PacedLoad(worker.settings, plan, rate).start()
    load.join(timeout)
    return load, stopped_at


def _sentinels(conn: psycopg.Connection[Any], plan: Plan) -> int:
    return count(conn, "SELECT count(*) FROM readings WHERE measured_at < %s", plan.start)


@dataclass
class PacedLoad:
    """Publish ``plan`` at ``rate`` readings/s in a thread; see the module docstring."""

    settings: Settings
    plan: Plan
    rate: float
    sent: int = 0
    acked: Keys = field(default_factory=dict)
    #: (monotonic time a PUBACK was seen, readings acknowledged by then)
    ack_times: list[tuple[float, int]] = field(default_factory=list)
    started_at: float = 0.0
    failures: list[BaseException] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> PacedLoad:
        self._thread = threading.Thread(target=self._run, name="paced-load", daemon=True)
        self._thread.start()
        return self

    @property
    def acked_count(self) -> int:
        return self.ack_times[-1][1] if self.ack_times else 0

    def wait_sent(self, fraction: float, timeout: float) -> bool:
        """Wait until ``fraction`` of the plan has been handed to the clients."""
        target = fraction * self.plan.total
        return wait_until(lambda: self.sent >= target or self._done.is_set(), timeout=timeout)

    def join(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"publisher still running: {self.sent:,} sent"
        assert not self.failures, self.failures

    def acked_by(self, moment: float) -> int:
        """Readings whose PUBACK had been seen by ``moment`` (monotonic)."""
        i = bisect.bisect_right(self.ack_times, (moment, float("inf")))
        return self.ack_times[i - 1][1] if i else 0

    def _run(self) -> None:
        clients = [
            GatewayClient(self.settings, g.gateway_id, g.password) for g in self.plan.gateways
        ]
        try:
            for client in clients:
                client.__enter__()
                assert client.connected, client.connect_reason
            self._pump(clients)
        except (OSError, AssertionError, ValueError, RuntimeError) as exc:  # the test raises it
            self.failures.append(exc)
        finally:
            for client in clients:
                if client.connected:
                    client.__exit__(None, None, None)
            self._done.set()

    def _pump(self, clients: Sequence[GatewayClient]) -> None:
        pending: deque[tuple[mqtt.MQTTMessageInfo, str, int]] = deque()
        self.started_at = time.monotonic()
        for g, n, payload in self.plan.messages():
            while self.sent >= self.rate * (time.monotonic() - self.started_at):
                self._collect(pending)
                time.sleep(0.005)
            serial = self.plan.serial(g)
            info = clients[g].publish(serial, payload)
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                # Broker away (a restart test): paho keeps the message and
                # sends it on reconnect; only its PUBACK puts it in the ledger.
                info.rc = mqtt.MQTT_ERR_SUCCESS
            pending.append((info, serial, n))
            self.sent += 1
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            self._collect(pending)
            time.sleep(0.01)
        assert not pending, f"{len(pending):,} publishes never acknowledged by the broker"

    def _collect(self, pending: deque[tuple[mqtt.MQTTMessageInfo, str, int]]) -> None:
        """Move the acknowledged publishes at the front of ``pending`` to the ledger."""
        done = 0
        while pending and pending[0][0].is_published():
            _, serial, n = pending.popleft()
            self.acked.setdefault(serial, set()).add(n)
            done += 1
        if done:
            self.ack_times.append((time.monotonic(), self.acked_count + done))


@dataclass(frozen=True)
class Tally:
    """The database against the ledger: every acknowledged reading stored once."""

    published: int
    stored: int
    duplicated: int
    lost: int
    unexpected: int


def stored_keys(conn: psycopg.Connection[Any], plan: Plan) -> tuple[Keys, int]:
    """The load's readings in the database as keys, and the rows they are in
    (only the plan's scales': another plan's readings are not its own)."""
    rows = conn.execute(
        "SELECT d.serial, r.measured_at FROM readings r JOIN devices d ON d.id = r.device_id"
        " WHERE r.measured_at >= %s AND d.serial = ANY(%s)",
        (plan.start, plan.serials),
    ).fetchall()
    keys: Keys = {}
    for serial, measured_at in rows:
        keys.setdefault(serial, set()).add(round((measured_at - plan.start) / plan.step))
    return keys, len(rows)


def tally(conn: psycopg.Connection[Any], plan: Plan, acked: Keys) -> Tally:
    stored, rows = stored_keys(conn, plan)
    in_db = sum(len(ns) for ns in stored.values())
    published = sum(len(ns) for ns in acked.values())
    lost = sum(len(ns - stored.get(serial, set())) for serial, ns in acked.items())
    unexpected = sum(len(ns - acked.get(serial, set())) for serial, ns in stored.items())
    return Tally(published, in_db, rows - in_db, lost, unexpected)


def converge(
    conn: psycopg.Connection[Any],
    plan: Plan,
    expected: int,
    *,
    timeout: float,
    settle: float | None = None,
) -> float:
    """Wait until ``expected`` load readings are stored; the seconds it took.

    With ``settle``, also stop once some arrived and then none for ``settle``
    seconds (a run that loses readings never reaches ``expected``).
    """
    began = time.monotonic()
    initial = last = _stored(conn, plan)
    changed_at = began
    while time.monotonic() - began < timeout:
        now = _stored(conn, plan)
        if now >= expected:
            break
        if now != last:
            last, changed_at = now, time.monotonic()
        elif settle is not None and last > initial and time.monotonic() - changed_at > settle:
            break
        time.sleep(0.25)
    return time.monotonic() - began


def _stored(conn: psycopg.Connection[Any], plan: Plan) -> int:
    return count(
        conn,
        "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device_id"
        " WHERE r.measured_at >= %s AND d.serial = ANY(%s)",
        plan.start,
        plan.serials,
    )
