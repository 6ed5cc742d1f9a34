"""``lastmile bench billing``: the month-end export benchmark (benchmarks/billing.py)."""

from __future__ import annotations

import click


@click.command("billing")
@click.option("--patients", default=100_000, show_default=True)
@click.option("--days", default=90, show_default=True, help="days of readings of every patient")
@click.option("--reuse", is_flag=True, help="keep the data of an earlier run of the same size")
@click.option(
    "--services-port-offset",
    default=0,
    show_default=True,
    help="add this to the benchmark services' ports (a second checkout's benchmark beside)",
)
def bench_billing(patients: int, days: int, reuse: bool, services_port_offset: int) -> None:
    """The last full month's export for every patient: seconds against 60 s, peak memory."""
    from benchmarks.billing import run
    from hub.services import up
    from hub.settings import BENCH_SERVICES, load_settings

    ports = {
        k: BENCH_SERVICES[k] + services_port_offset for k in ("pg_port", "mqtt_port", "api_port")
    }
    settings = up(load_settings(**{**BENCH_SERVICES, **ports}))
    run(settings, patients=patients, days=days, reuse=reuse)
