"""The ``lastmile`` command line."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from hub import logs
from hub.settings import Settings, load_settings


def _settings() -> Settings:
    return load_settings()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


@click.group()
@click.option("--log-level", default="INFO", show_default=True)
def main(log_level: str) -> None:
    """Lastmile remote patient monitoring hub."""
    logs.configure(log_level.upper())


#: Slot k of several ingest workers serves its metrics on ingest_metrics_port + this + k.
SLOT_METRICS_STEP = 100


@main.command()
@click.option(
    "--slot",
    type=click.IntRange(0, 9999),
    default=None,
    help="run as this slot of several workers sharing the broker's subscriptions"
    " (docs/scaling.md); default: settings.ingest_slot, unset for the hub's one worker",
)
def ingest(slot: int | None) -> None:
    """Run the ingest worker until SIGTERM/SIGINT (one of several: drain, then stop)."""
    from flows.worker import IngestWorker
    from hub.db import connect, migrate
    from hub.metrics import start_exporter

    settings = _settings()
    if slot is not None:
        settings = settings.model_copy(update={"ingest_slot": slot})
    with connect(settings) as conn:
        migrate(conn)
    stop = _stop_on_signals()
    # A worker of several serves its metrics on a port of its slot's (one
    # Prometheus target each: docs/metrics.md), clear of the notifier's.
    port = settings.ingest_metrics_port
    if settings.ingest_slot is not None and port:
        port += SLOT_METRICS_STEP + settings.ingest_slot
    start_exporter(settings, port=port, service="ingest")
    IngestWorker(settings).run(stop)


@main.command()
def notify() -> None:
    """Send Web Push notifications and escalate unacknowledged critical alerts."""
    from alerts.notifier import run_notifier
    from hub.metrics import start_exporter

    settings = _settings()
    start_exporter(settings, port=settings.notify_metrics_port, service="notify")
    run_notifier(settings, _stop_on_signals())


@main.command()
def vendors() -> None:
    """Pull every configured vendor cloud into the hub through the broker, until SIGTERM/SIGINT."""
    from devices.vendors import run_vendors

    run_vendors(_settings(), _stop_on_signals())


@main.command()
@click.option("--patients", default=20, show_default=True, help="simulated cohort size")
@click.option("--days", default=30, show_default=True, help="days of history to backfill")
@click.option("--speed", default=43_200.0, show_default=True, help="playback speed of the backfill")
@click.option(
    "--external-services",
    is_flag=True,
    help="PostgreSQL and Mosquitto run elsewhere (docker compose): do not install or start them",
)
@click.option("--api-workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=None,
    help="ingest workers, sharing the broker's subscriptions when more than one"
    " (default: settings.ingest_workers)",
)
def up(
    patients: int,
    days: int,
    speed: float,
    external_services: bool,
    api_workers: int,
    workers: int | None,
) -> None:
    """Start services, migrate, then ingest, API and a simulated cohort (Ctrl-C stops)."""
    from hub.services import up as services_up
    from hub.services.hub_user import ensure_hub_client
    from lastmile.run import run_hub

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"ingest_workers": workers})
    if external_services:
        ensure_hub_client(settings)
    else:
        settings = services_up(settings)
    run_hub(
        settings,
        patients=patients,
        days=days,
        speed=speed,
        api_workers=api_workers,
        stop=_stop_on_signals(),
    )


@main.command()
@click.option("--full", is_flag=True, help="the documented full loads (long; default: CI's)")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def proof(full: bool, pytest_args: tuple[str, ...]) -> None:
    """Run the fault and abuse suites (tests/faults, tests/security) and print their table.

    They run against the test services, like the test suite; the table is also
    written to test-artifacts/proof.md. Exit status: pytest's (non-zero on any
    failure, and when no test was collected).
    """
    import subprocess

    from hub.settings import PROJECT_ROOT

    profile = "full" if full else "ci"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/faults"]
    argv += ["tests/security", f"--proof-profile={profile}", *pytest_args]
    sys.exit(subprocess.call(argv, cwd=PROJECT_ROOT))


@main.command()
@click.option("--limit", default=10, show_default=True)
def readings(limit: int) -> None:
    """Show the latest stored readings and how to fetch them over the API."""
    from hub.readings import latest_readings

    settings = _settings()
    with connect_db(settings) as conn:
        rows = latest_readings(conn, limit=limit)
    if not rows:
        click.echo("no readings stored yet")
        return
    for row in rows:
        value = f"{row['value']:.1f}" + (
            f"/{row['value2']:.0f}" if row["value2"] is not None else ""
        )
        when = f"{row['measured_at']:%Y-%m-%d %H:%M}Z"
        click.echo(
            f"{when}  {row['measure']:<18} {value:>9} {row['unit']:<9} patient {row['patient_id']}"
        )
    base = f"http://{settings.api_host}:{settings.api_port}"
    click.echo(
        '\ncurl -H "Authorization: Bearer $LASTMILE_ADMIN_TOKEN" \\\n'
        f"  '{base}/api/v1/patients/{rows[0]['patient_id']}/readings"
        f"?measure={rows[0]['measure']}&bucket=1d'"
        f"\n(the admin token is in {settings.env_file})"
    )


@main.command()
@click.option("--limit", default=20, show_default=True)
def alerts(limit: int) -> None:
    """Show unresolved and recent alerts with their reasons, most severe first."""
    from alerts.service import recent_alerts

    with connect_db(_settings()) as conn:
        rows = recent_alerts(conn, limit=limit)
    if not rows:
        click.echo("no alerts")
        return
    for row in rows:
        head = f"{row['severity']:<8} {row['kind']:<19} {row['status']:<12}"
        click.echo(
            f"{head} patient {row['patient_id']}"
            f"  ({row['evidence']} evidence, updated {row['updated_at']:%Y-%m-%d %H:%M}Z)"
        )
        click.echo(f"         {row['source']}: {row['reason']}")


def connect_db(settings: Settings) -> Any:
    """A database connection, or a plain error saying how to start the services."""
    import psycopg

    from hub.db import connect

    try:
        return connect(settings)
    except psycopg.OperationalError as exc:
        where = f"{settings.pg_host}:{settings.pg_port}"
        msg = f"the database at {where} is not reachable; start it with `lastmile services up`"
        raise click.ClickException(msg) from exc


@main.group("import")
def import_() -> None:
    """Import data from files."""


@import_.command("dispenses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=5000, show_default=True)
def import_dispenses(path: Path, batch_size: int) -> None:
    """Import pharmacy fills from a CSV file (columns: see ingest/pharmacy_csv.py)."""
    from flows.refill_checks import check_refills
    from ingest.pharmacy_csv import CsvFormatError, import_rows, read_rows

    total = {"rows": 0, "stored": 0, "held": 0, "duplicates": 0, "unclassified": 0}
    rejected: list[tuple[int, str, str]] = []
    touched: set[Any] = set()
    size = path.stat().st_size
    read = [0]  # characters read so far (the progress bar's position)

    def counted(lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            read[0] += len(line)
            yield line

    with connect_db(_settings()) as conn, path.open(newline="", encoding="utf-8") as f:
        rows = read_rows(counted(f))
        try:
            with click.progressbar(length=size, label="importing", file=sys.stderr) as bar:
                for part in import_rows(conn, rows, batch_size=batch_size):
                    conn.commit()
                    for key in total:
                        total[key] += getattr(part, key)
                    rejected += part.rejected
                    touched |= part.patients
                    bar.update(read[0] - bar.pos)
        except CsvFormatError as exc:
            raise click.ClickException(str(exc)) from exc
        alerts = 0
        for recorded in check_refills(conn, touched):
            conn.commit()
            alerts += recorded
    click.echo(
        f"{total['rows']:,} rows: {total['stored']:,} stored "
        f"({total['held']:,} held for patients not enrolled yet), "
        f"{total['duplicates']:,} skipped as duplicates, {len(rejected):,} rejected; "
        f"{total['unclassified']:,} of a drug not in any known class; "
        f"refill checks of {len(touched):,} patients recorded {alerts:,} alerts"
    )
    for line, code, detail in rejected[:50]:
        click.echo(f"  line {line}: {code}: {detail}")
    if len(rejected) > 50:
        click.echo(f"  ... and {len(rejected) - 50:,} more")


@import_.command("rxnorm")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--batch-size", default=5000, show_default=True)
def import_rxnorm(directory: Path, batch_size: int) -> None:
    """Load a full RxNorm release (its RRF files) so that a code alone classifies a drug."""
    from flows.refill_checks import check_refills
    from ingest.exceptions import RxnormFormatError
    from ingest.rxnorm import load_rxnorm

    with connect_db(_settings()) as conn:
        try:
            done = load_rxnorm(conn, directory, batch_size=batch_size)
        except RxnormFormatError as exc:
            raise click.ClickException(str(exc)) from exc
        conn.commit()
        alerts = 0
        for recorded in check_refills(conn, done.patients):
            conn.commit()
            alerts += recorded
    click.echo(
        f"{done.summary()}; refill checks of {len(done.patients):,} patients "
        f"recorded {alerts:,} alerts"
    )


@main.group()
def bench() -> None:
    """Benchmarks that print figures (run from a source checkout)."""


@bench.command("ingest")
@click.option("--messages", default=100_000, show_default=True)
@click.option("--processes", default=1, show_default=True, help="raw publisher processes")
def bench_ingest(messages: int, processes: int) -> None:
    """(a) bare subscriber, (b) raw COPY, (c) hub end to end, and (c)/(a)."""
    from benchmarks.ingest import run
    from hub.services import up as services_up
    from hub.settings import BENCH_SERVICES

    settings = services_up(load_settings(**BENCH_SERVICES))
    run(settings, messages=messages, processes=processes)


@bench.command("scoring")
def bench_scoring() -> None:
    """Detector cost per reading and checkpoint state per measure (no services)."""
    from benchmarks.scoring import run

    run()


@bench.command("pharmacy")
@click.option("--rows", default=1_000_000, show_default=True)
@click.option("--patients", default=100_000, show_default=True)
def bench_pharmacy(rows: int, patients: int) -> None:
    """CSV import rows/s and the full refill and PDC pass (simulated fills)."""
    from benchmarks.pharmacy import run
    from hub.services import up
    from hub.settings import BENCH_SERVICES

    run(up(load_settings(**BENCH_SERVICES)), rows=rows, patients=patients)


def _attach_optional() -> None:
    from api.cli import audit_group, users
    from benchmarks.billing_cli import bench_billing, bench_forecast
    from benchmarks.connections import bench_connections
    from benchmarks.worklist_cli import bench_worklist
    from flows.billing_export.cli import billing
    from hub.services.cli import services
    from ingest.conformance.cli import conformance
    from lastmile.serve import api, db
    from simulators.cli import simulate
    from simulators.evaluation.eval_cli import eval_command

    main.add_command(db)
    main.add_command(api)
    main.add_command(services)
    main.add_command(simulate)
    main.add_command(eval_command)
    main.add_command(users)
    main.add_command(audit_group)
    main.add_command(billing)
    bench.add_command(bench_billing)
    bench.add_command(bench_connections)
    bench.add_command(bench_worklist)
    bench.add_command(bench_forecast)
    main.add_command(conformance)


_attach_optional()
