"""What the benchmark commands share: their own services, on ports a checkout may shift."""

from __future__ import annotations

import click

from hub.settings import Settings

services_port_offset = click.option(
    "--services-port-offset",
    default=0,
    show_default=True,
    help="add this to the benchmark services' ports (a second checkout's benchmark beside)",
)


def bench_services(port_offset: int) -> Settings:
    """Start (if stopped) the benchmark's PostgreSQL and Mosquitto, ports + ``port_offset``."""
    from hub.services import up
    from hub.settings import BENCH_SERVICES, load_settings

    ports = {k: BENCH_SERVICES[k] + port_offset for k in ("pg_port", "mqtt_port", "api_port")}
    return up(load_settings(**{**BENCH_SERVICES, **ports}))
