"""Broker connections benchmark: figures, not a test. ``lastmile bench connections`` runs it.

How much a gateway's idle connection costs the project's own Mosquitto, and
how fast the broker accepts connections: the two figures a programme of a
million gateways is planned with (docs/scaling.md). A fresh broker is started
from the project's configuration (dynamic security, no anonymous access) in a
temporary folder on a port of its own, so the figure is not blurred by the
memory an earlier run left in the allocator; simulated gateways connect with
MQTT 3.1.1 as the hub's user (one user, a client id each: the cost measured is
the connection's, not the credential's), stay idle, and the broker's resident
memory is read from ``/proc`` before and after. Every connection's CONNACK is
checked, so a refused connection fails the run instead of flattering it.

The connect rate is a lower bound: the clients are one Python process on the
same cores as the broker, and they connect without TLS.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import struct
import tempfile
import time
from pathlib import Path

import click

from benchmarks.services_cli import services_port_offset
from hub.services.hub_user import ensure_hub_client
from hub.services.mosquitto import mq_down, mq_status, mq_up
from hub.settings import BENCH_SERVICES, Settings, load_settings

#: Connections opened at once; the rest wait for them.
WAVE = 500
#: The broker port, past the ingest benchmark's.
PORT_STEP = 7


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, username: str, password: str, keepalive_s: int = 600) -> bytes:
    """An MQTT 3.1.1 CONNECT (clean session, username and password: OASIS MQTT 3.1.1 §3.1)."""
    flags = 0b1100_0010
    body = _utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive_s)
    body += _utf8(client_id) + _utf8(username) + _utf8(password)
    length, remaining = len(body), b""
    while True:
        digit, length = length % 128, length // 128
        remaining += bytes([digit | (0x80 if length else 0)])
        if not length:
            break
    return b"\x10" + remaining + body


async def _connect(settings: Settings, client_id: str, open_: list[asyncio.StreamWriter]) -> None:
    reader, writer = await asyncio.open_connection(settings.mqtt_host, settings.mqtt_port)
    writer.write(
        connect_packet(
            client_id,
            settings.mqtt_hub_username,
            settings.mqtt_hub_password.get_secret_value(),
        )
    )
    await writer.drain()
    connack = await reader.readexactly(4)
    if connack[0] != 0x20 or connack[3] != 0:
        raise RuntimeError(f"{client_id}: CONNACK {connack.hex()}")
    open_.append(writer)


async def _open(settings: Settings, count: int, pid: int) -> tuple[float, int]:
    open_: list[asyncio.StreamWriter] = []
    began = time.perf_counter()
    for start in range(0, count, WAVE):
        await asyncio.gather(
            *(
                _connect(settings, f"conn-bench-{start + i}", open_)
                for i in range(min(WAVE, count - start))
            )
        )
    took = time.perf_counter() - began
    await asyncio.sleep(2)
    rss = _rss_kib(pid)
    if len(open_) != count:
        raise RuntimeError(f"{len(open_)} of {count} connections open")
    for writer in open_:
        writer.close()
    return took, rss


def run(*, counts: list[int], services_port_offset: int = 0) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lastmile-conn-bench-"))
    settings = load_settings(
        data_dir=folder,
        mqtt_port=BENCH_SERVICES["mqtt_port"] + PORT_STEP + services_port_offset,
        mqtt_admin_password=secrets.token_urlsafe(24),
        mqtt_hub_password=secrets.token_urlsafe(24),
    )
    print(
        "broker connections benchmark: simulated gateways, idle MQTT 3.1.1 connections "
        "to a fresh broker with the project's configuration"
    )
    try:
        mq_up(settings)
        ensure_hub_client(settings)
        for count in counts:
            pid = mq_status(settings).pid
            if pid is None:
                raise RuntimeError("the broker is not running")
            before = _rss_kib(pid)
            took, after = asyncio.run(_open(settings, count, pid))
            print(
                f"  {count:>7,} connections: broker RSS {before / 1024:6.1f} -> "
                f"{after / 1024:6.1f} MiB, {(after - before) / count:5.2f} KiB per connection; "
                f"accepted at {count / took:,.0f} connections/s (a lower bound)"
            )
            time.sleep(1)
    finally:
        mq_down(settings)
        shutil.rmtree(folder, ignore_errors=True)


@click.command("connections")
@click.option(
    "--counts",
    default="2000,15000",
    show_default=True,
    help="connections to open, one figure each (comma-separated; the file limit caps them)",
)
@services_port_offset
def bench_connections(counts: str, services_port_offset: int) -> None:
    """Broker memory per idle gateway connection, and the accept rate (a fresh broker)."""
    run(
        counts=[int(c) for c in counts.split(",") if c.strip()],
        services_port_offset=services_port_offset,
    )
