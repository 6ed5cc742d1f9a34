"""Month-end billing export benchmark: figures, not a test. ``lastmile bench billing`` runs it.

On the benchmark's own private services (``BENCH_SERVICES``, moved by
``port_offset``), in a fresh database, with simulated data only: the worklist
benchmark's ``patients`` (100,000) with a multi-sensor device each and
``days`` (90) of daily readings for all (benchmarks/worklist_data.py), plus
care programmes, the month's time, and days each patient missed
(benchmarks/billing_data.py). ``lastmile bench forecast`` (benchmarks/forecast.py)
runs the daily forecast pass on the same data.

Then, in a freshly spawned interpreter per format (so each peak is its own),
the export of the last full month for every patient, exactly what ``lastmile
billing export --month`` writes (two connections: the readings are read on
the second while the care rows are written), to a file: seconds, rows, file
size, and the process's peak resident memory; the seconds over the 60 s
target as a ratio.
``--reuse`` keeps the data of an earlier run of the same size and kind
(:data:`DATA_VERSION`, the database's comment).
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

from benchmarks import billing_data, worklist_data
from benchmarks.worklist import plan
from billing.models import Month
from hub.db import connect, fresh_database
from hub.settings import Settings

BENCH_DB = "lastmile_bench_billing"
Format = Literal["csv", "json"]
TARGET_S = 60.0


def last_full_month(today: date) -> Month:
    return Month.of(today.replace(day=1) - timedelta(days=1))


#: What the data is, kept as the database's comment: ``--reuse`` takes only data made so.
DATA_VERSION = "lastmile billing benchmark data: programmes, time, missed days"


def _generate(settings: Settings, patients: int, days: int, month: Month) -> None:
    import random

    cohort = plan(patients=patients, panel=250, days=days)
    rng = random.Random(20261207)
    now = datetime.now(UTC)
    with connect(settings) as conn:
        coordinators = worklist_data.users(conn, cohort, now)
        worklist_data.patients(conn, cohort, coordinators, now.date(), rng)
        conn.commit()
        worklist_data.readings(conn, cohort, background_days=days, rng=rng)
        added = billing_data.programmes(conn, month=month, actor=coordinators[0])
        added["missed readings"] = billing_data.missed_days(
            conn, first=now.date() - timedelta(days=days), last=now.date()
        )
        print("  " + ", ".join(f"{n:,} {what}" for what, n in added.items()))
        conn.autocommit = True
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(BENCH_DB), sql.Literal(DATA_VERSION)
            )
        )
        conn.execute("VACUUM ANALYZE")


def _reusable(settings: Settings, patients: int) -> Settings | None:
    bench = settings.model_copy(update={"pg_database": BENCH_DB})
    try:
        with connect(bench) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM patients),"
                " (SELECT count(*) FROM program_episodes WHERE kind = 'RPM'),"
                " shobj_description((SELECT oid FROM pg_database"
                "                    WHERE datname = current_database()), 'pg_database')"
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return bench if row == (patients, patients, DATA_VERSION) else None


def bench_data(
    settings: Settings, *, patients: int, days: int, month: Month, reuse: bool
) -> Settings:
    """Settings for the benchmark's database: generated afresh, or (``reuse``) the data
    of an earlier run of the same size if there is one."""
    bench = _reusable(settings, patients) if reuse else None
    if bench is None:
        began = time.perf_counter()
        bench = fresh_database(settings, BENCH_DB)
        _generate(bench, patients, days, month)
        print(f"  generated in {time.perf_counter() - began:.0f} s")
    else:
        print(f"  reusing the data in {BENCH_DB}")
    return bench


def in_fresh_interpreter(target: Callable[..., None], *args: object) -> None:
    """Run ``target(*args)`` in a freshly spawned interpreter (so that its peak memory is
    its own); SystemExit if it fails."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed (exit code {child.exitcode})")


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_export(settings: Settings, month: Month, fmt: Format, out: str) -> None:
    """In the spawned interpreter: the export, timed, and the process's peak memory."""
    from flows.billing_export.evidence import Scope
    from flows.billing_export.output import write_export

    before = peak_rss_mib()
    with connect(settings) as conn, Path(out).open("wb") as target:
        began = time.perf_counter()
        written = write_export(
            conn,
            month=month,
            scope=Scope(),
            out=target,
            fmt=fmt,
            reader=lambda: connect(settings),
        )
        took = time.perf_counter() - began
    peak = peak_rss_mib()
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(written.statuses.items()))
    size = Path(out).stat().st_size / 2**20
    print(
        f"  {fmt:4}: {took:6.1f} s for {written.patients:,} patients, {written.rows:,} rows "
        f"({statuses}), {size:,.0f} MiB; peak RSS {peak:,.0f} MiB "
        f"({before:,.0f} MiB after imports); {took / TARGET_S:.2f} of the {TARGET_S:.0f} s "
        "target"
    )


def run(settings: Settings, *, patients: int, days: int, reuse: bool = False) -> None:
    month = last_full_month(datetime.now(UTC).date())
    print(
        f"billing export benchmark: {patients:,} simulated patients, {days} days of readings "
        f"each, month {month}"
    )
    bench = bench_data(settings, patients=patients, days=days, month=month, reuse=reuse)
    with tempfile.TemporaryDirectory() as folder:
        formats: tuple[Format, ...] = ("csv", "json")
        for fmt in formats:
            out = str(Path(folder) / f"billing-{month}.{fmt}")
            in_fresh_interpreter(_timed_export, bench, month, fmt, out)
