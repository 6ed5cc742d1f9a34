"""Load generators for the ingest benchmark: a bare QoS 1 publisher and a counting subscriber.

A single paho publisher tops out near 14,000 QoS 1 messages/s on a 2-core box,
below what the hub should ingest, so the benchmark publishes with
:func:`publish_preencoded`: MQTT 3.1.1 over a plain socket, every PUBLISH
encoded before the clock starts, a window of unacknowledged packets in flight,
PUBACKs read in the same non-blocking loop. :func:`run_publishers_in_processes`
runs several of them in parallel, one process and one gateway each.
:func:`count_subscriber` (from :mod:`simulators.load.countsub`) only counts.

MQTT 3.1.1 has no receive maximum: Mosquitto 2.0 acknowledged windows of up
to 65,535 QoS 1 packets from one client in our runs, so ``window`` bounds
memory and latency, and must stay at most 65,535 so packet ids never collide.
Against a broker with a lower limit (an MQTT 5 receive maximum, or a broker
that disconnects a client with too many in flight), pass that limit.
"""

from __future__ import annotations

import bisect
import logging
import multiprocessing
import selectors
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simulators.exceptions import ConnectRefusedError, ProtocolError, PublisherError
from simulators.load import mqttcodec as codec
from simulators.load.countsub import SubscribeStats, count_subscriber

__all__ = [
    "MultiPublishStats",
    "PublishStats",
    "PublisherJob",
    "SubscribeStats",
    "count_subscriber",
    "publish_preencoded",
    "run_publishers_in_processes",
]

log = logging.getLogger(__name__)

_OUT_HIGH_WATER = 256 * 1024
_RECV_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class PublishStats:
    """One publisher's run; times are ``time.monotonic()`` (system-wide on Linux)."""

    client_id: str
    total: int
    sent: int
    acked: int
    started_at: float
    finished_at: float
    timed_out: bool = False

    @property
    def elapsed_s(self) -> float:
        return self.finished_at - self.started_at

    @property
    def rate(self) -> float:
        """Acknowledged messages per second, first PUBLISH to last PUBACK."""
        return self.acked / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class PublisherJob:
    """What one publisher process sends, with its own gateway's credentials."""

    client_id: str
    username: str | None
    password: str | None
    messages: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class MultiPublishStats:
    jobs: tuple[PublishStats, ...]

    @property
    def sent(self) -> int:
        return sum(j.sent for j in self.jobs)

    @property
    def acked(self) -> int:
        return sum(j.acked for j in self.jobs)

    @property
    def elapsed_s(self) -> float:
        """From the first process's first PUBLISH to the last process's last PUBACK."""
        return max(j.finished_at for j in self.jobs) - min(j.started_at for j in self.jobs)

    @property
    def rate(self) -> float:
        return self.acked / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def timed_out(self) -> bool:
        return any(j.timed_out for j in self.jobs)


def _connect(host: str, port: int, connect_packet: bytes, timeout_s: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout_s)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(connect_packet)
        connack = b""
        while len(connack) < 4:
            chunk = sock.recv(4 - len(connack))
            if not chunk:
                msg = "broker closed the connection before CONNACK"
                raise ProtocolError(msg)
            connack += chunk
        _, code = codec.parse_connack(connack)
        if code != 0:
            reason = codec.CONNACK_CODES.get(code, "unknown")
            raise ConnectRefusedError(f"CONNECT refused: {reason}", code=code)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def publish_preencoded(
    host: str,
    port: int,
    *,
    client_id: str,
    username: str | None,
    password: str | None,
    messages: Sequence[tuple[str, bytes]],
    window: int = 1000,
    timeout_s: float = 120.0,
    keepalive_s: int = 60,
    before_publish: Callable[[], object] | None = None,
) -> PublishStats:
    """Publish ``(topic, payload)`` pairs at QoS 1 as fast as the broker acknowledges them.

    Every packet is encoded before connecting; ``before_publish`` runs after
    CONNACK, just before the clock starts (a barrier, for parallel runs). Up to
    ``window`` packets are unacknowledged at any time. When ``timeout_s``
    (counted from the first PUBLISH) passes, the stats so far come back with
    ``timed_out`` set. ``sent`` counts packets wholly written to the socket.
    """
    if not 1 <= window <= codec.MAX_PACKET_ID:
        msg = f"window must be within 1..65535, got {window}"
        raise ValueError(msg)
    packets = [codec.preencode_publish(topic, payload) for topic, payload in messages]
    connect = codec.encode_connect(
        client_id=client_id, username=username, password=password, keepalive_s=keepalive_s
    )
    sock = _connect(host, port, connect, timeout_s)
    try:
        if before_publish is not None:
            before_publish()
        stats = _pump(sock, client_id, packets, window, timeout_s, keepalive_s)
        if not stats.timed_out:
            sock.setblocking(True)
            sock.sendall(codec.DISCONNECT_PACKET)
    finally:
        sock.close()
    if stats.timed_out:
        log.warning(
            "raw publisher timed out",
            extra={"client_id": client_id, "acked": stats.acked, "total": stats.total},
        )
    return stats


def _pump(
    sock: socket.socket,
    client_id: str,
    packets: Sequence[codec.PreencodedPublish],
    window: int,
    timeout_s: float,
    keepalive_s: int,
) -> PublishStats:
    total = len(packets)
    inflight: set[int] = set()
    ends: list[int] = []  # cumulative byte offset where each queued packet ends
    queued_bytes = written = 0
    out = bytearray()
    inbuf = bytearray()
    packet_id = 0
    nxt = acked = 0
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    interest = selectors.EVENT_READ
    started = last_io = time.monotonic()
    deadline = started + timeout_s
    finished = started
    timed_out = False
    try:
        while acked < total:
            while nxt < total and len(inflight) < window and len(out) < _OUT_HIGH_WATER:
                packet_id = codec.next_packet_id(packet_id)
                while packet_id in inflight:
                    packet_id = codec.next_packet_id(packet_id)
                packet = packets[nxt].with_packet_id(packet_id)
                out += packet
                queued_bytes += len(packet)
                ends.append(queued_bytes)
                inflight.add(packet_id)
                nxt += 1
            if out:
                try:
                    n = sock.send(out)
                except BlockingIOError:
                    n = 0
                del out[:n]
                written += n
                last_io = time.monotonic() if n else last_io
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0)
            if want != interest:
                sel.modify(sock, want)
                interest = want
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if now - last_io > keepalive_s / 2 and not out:
                out += codec.PINGREQ_PACKET
                queued_bytes += len(codec.PINGREQ_PACKET)
                last_io = now
            for _, mask in sel.select(min(deadline - now, keepalive_s / 2)):
                if mask & selectors.EVENT_READ:
                    data = sock.recv(_RECV_BYTES)
                    if not data:
                        msg = f"broker closed the connection after {acked} PUBACKs"
                        raise ProtocolError(msg)
                    inbuf += data
                    acked += codec.consume_pubacks(inbuf, inflight)
            finished = time.monotonic()
    finally:
        sel.close()
    return PublishStats(
        client_id=client_id,
        total=total,
        sent=bisect.bisect_right(ends, written),
        acked=acked,
        started_at=started,
        finished_at=finished,
        timed_out=timed_out,
    )


# -- several publishers in parallel ------------------------------------------------------


class _Waitable(Protocol):
    def wait(self, timeout: float | None = None) -> Any: ...


def _job_main(
    job: PublisherJob,
    host: str,
    port: int,
    window: int,
    timeout_s: float,
    barrier: _Waitable,
    results: Any,
) -> None:
    try:
        stats = publish_preencoded(
            host,
            port,
            client_id=job.client_id,
            username=job.username,
            password=job.password,
            messages=job.messages,
            window=window,
            timeout_s=timeout_s,
            before_publish=lambda: barrier.wait(timeout_s),
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        results.put((job.client_id, f"{type(exc).__name__}: {exc}"))
        return
    results.put((job.client_id, stats))


def run_publishers_in_processes(
    n_procs: int,
    host: str,
    port: int,
    *,
    jobs: Sequence[PublisherJob],
    window: int = 1000,
    timeout_s: float = 120.0,
) -> MultiPublishStats:
    """Run ``n_procs`` raw publishers in parallel, one process and one job each.

    Processes are spawned, so each pickles its job; they encode, connect, wait
    for one another and start publishing together.
    """
    if len(jobs) != n_procs or n_procs < 1:
        msg = f"need exactly one job per process: {n_procs} processes, {len(jobs)} jobs"
        raise ValueError(msg)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n_procs)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_job_main,
            args=(job, host, port, window, timeout_s, barrier, results),
            name=f"rawmqtt-{job.client_id}",
        )
        for job in jobs
    ]
    for proc in procs:
        proc.start()
    collected: dict[str, PublishStats] = {}
    failures: list[str] = []
    try:
        for _ in procs:
            client_id, outcome = results.get(timeout=timeout_s * 2 + 60)
            if isinstance(outcome, PublishStats):
                collected[client_id] = outcome
            else:
                failures.append(f"{client_id}: {outcome}")
    except Exception as exc:
        msg = f"a publisher process did not report: {exc!r}"
        raise PublisherError(msg) from exc
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    if failures:
        raise PublisherError("; ".join(failures))
    return MultiPublishStats(jobs=tuple(collected[j.client_id] for j in jobs))
