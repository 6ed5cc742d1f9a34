"""``lastmile bench billing`` and ``lastmile bench forecast``: the month-end export
(benchmarks/billing.py) and the daily forecast pass (benchmarks/forecast.py), on the same
simulated data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from benchmarks.services_cli import bench_services, services_port_offset


def _data_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options both benchmarks share: the data's size, its reuse, and the ports."""
    for option in reversed((
        click.option("--patients", default=100_000, show_default=True),
        click.option(
            "--days", default=90, show_default=True, help="days of readings of every patient"
        ),
        click.option(
            "--reuse", is_flag=True, help="keep the data of an earlier run of the same size"
        ),
        services_port_offset,
    )):  # fmt: skip
        command = option(command)
    return command


@click.command("billing")
@_data_options
def bench_billing(patients: int, days: int, reuse: bool, services_port_offset: int) -> None:
    """The last full month's export for every patient: seconds against 60 s, peak memory."""
    from benchmarks.billing import run

    run(bench_services(services_port_offset), patients=patients, days=days, reuse=reuse)


@click.command("forecast")
@_data_options
def bench_forecast(patients: int, days: int, reuse: bool, services_port_offset: int) -> None:
    """The daily forecast pass over every open RPM and CCM episode: seconds against 30 s."""
    from benchmarks.forecast import run

    run(bench_services(services_port_offset), patients=patients, days=days, reuse=reuse)
