"""``lastmile bench billing``: the month-end export benchmark (benchmarks/billing.py)."""

from __future__ import annotations

import click

from benchmarks.services_cli import bench_services, services_port_offset


@click.command("billing")
@click.option("--patients", default=100_000, show_default=True)
@click.option("--days", default=90, show_default=True, help="days of readings of every patient")
@click.option("--reuse", is_flag=True, help="keep the data of an earlier run of the same size")
@services_port_offset
def bench_billing(patients: int, days: int, reuse: bool, services_port_offset: int) -> None:
    """The last full month's export for every patient: seconds against 60 s, peak memory."""
    from benchmarks.billing import run

    run(bench_services(services_port_offset), patients=patients, days=days, reuse=reuse)
