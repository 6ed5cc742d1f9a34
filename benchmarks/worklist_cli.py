"""``lastmile bench worklist``: the worklist and chart benchmark (benchmarks/worklist.py)."""

from __future__ import annotations

import click

from benchmarks.services_cli import bench_services, services_port_offset


@click.command("worklist")
@click.option("--patients", default=100_000, show_default=True)
@click.option("--panel", default=250, show_default=True, help="patients per coordinator")
@click.option("--days", default=365, show_default=True, help="readings history of the panel")
@click.option(
    "--background-days",
    default=90,
    show_default=True,
    help="readings history of every other patient (365: a full year for all)",
)
@click.option("--repeats", default=300, show_default=True, help="timed requests per figure")
@click.option("--reuse", is_flag=True, help="keep the data of an earlier run of the same size")
@services_port_offset
def bench_worklist(
    patients: int,
    panel: int,
    days: int,
    background_days: int,
    repeats: int,
    reuse: bool,
    services_port_offset: int,
) -> None:
    """Worklist of a panel and a 90-day chart: p50/p95 ms against 100 ms and 50 ms."""
    from benchmarks.worklist import run

    run(
        bench_services(services_port_offset),
        patients=patients,
        panel=panel,
        days=days,
        background_days=background_days,
        repeats=repeats,
        reuse=reuse,
    )
