"""``lastmile billing export``: a month's billing rows from the shell, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import psycopg

from flows.billing_export.calendar import parse_month
from flows.billing_export.evidence import Scope
from flows.billing_export.exceptions import BillingExportError
from flows.billing_export.output import Written, write_export
from hub.db import connect
from hub.settings import load_settings

__all__ = ["billing"]


@click.group()
def billing() -> None:
    """Billing evidence for US CMS codes (RPM, CCM, TCM)."""


@billing.command("export")
@click.option("--month", required=True, help="the month, YYYY-MM")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="the file to write (default: standard output)",
)
def export(month: str, fmt: str, out: Path | None) -> None:
    """Every patient's billing rows for the month, with their evidence.

    One row per patient, programme, period or month, and code: units, status
    (billable, at_risk, none), what is missing, and the evidence. Once the
    month is signed off for every patient (an admin's sign-off), the signed
    bytes. The progress bar and the summary go to standard error.
    """
    settings = load_settings()
    try:
        wanted = parse_month(month)
        conn = connect(settings)
    except BillingExportError as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"the database is not reachable: {exc}") from exc
    with conn, click.open_file(str(out or "-"), "wb") as target:
        bar = click.progressbar(length=0, label="exporting patients", file=sys.stderr)
        with bar:

            def total(patients: int) -> None:
                bar.length = patients

            try:
                written = write_export(
                    conn,
                    month=wanted,
                    scope=Scope(),
                    out=target,
                    fmt="json" if fmt == "json" else "csv",
                    progress=bar.update,
                    total=total,
                    reader=lambda: connect(settings),
                )
            except BillingExportError as exc:
                raise click.ClickException(str(exc)) from exc
        conn.rollback()
    click.echo(_summary(month, written), err=True)


def _summary(month: str, written: Written) -> str:
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(written.statuses.items())) or "no rows"
    signed = written.signed
    origin = (
        f"signed off by {signed.signed_by_name} at {signed.signed_at:%Y-%m-%d %H:%M}Z, "
        f"sha256 {signed.sha256}"
        if signed
        else "not signed off"
    )
    counted = f"{written.rows:,} rows for {written.patients:,} patients"
    return f"{month}: {counted} ({statuses}); {origin}"
