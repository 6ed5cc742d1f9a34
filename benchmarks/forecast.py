"""Daily billing forecast benchmark: figures, not a test. ``lastmile bench forecast`` runs it.

The data of the billing export benchmark (benchmarks/billing.py, the same
database: ``--reuse`` shares it), all simulated: 100,000 patients, each with
an open RPM episode (one in three a CCM one too), 90 days of readings with
days missed at a rate of each patient's own (benchmarks/billing_data.py),
and the last full month's time.

The pass (:func:`flows.forecasts.run_forecast_pass`) is run as on a day near
the end of that month (:func:`forecast_now`: four days before its end), when
both of its rules are judged: every RPM episode's 30-day period, and every
consented episode's month of time (judged in its last seven days only: the
pass's heaviest days). The readings after that moment are in the database
too; the pass reads none measured two days or more after its "now" (every
zone's today is over by then), so it sees what it would have seen then.

Three passes, each committed, each in a freshly spawned interpreter (so its
peak memory is its own), each as the scheduler runs it (the readings read on
a second connection): the first (no notice open before it: the notices
open), the same pass again (nothing opens or clears: it is idempotent), and
the next day's (some notices clear, some open). Each prints its seconds
against the 30 s target, the process's peak resident memory, the episodes
judged, and the notices opened, kept and cleared.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from benchmarks.billing import bench_data, in_fresh_interpreter, last_full_month, peak_rss_mib
from billing.models import Month
from hub.db import connect
from hub.settings import Settings

TARGET_S = 30.0


def forecast_now(month: Month) -> datetime:
    """Noon UTC four days before the month's end (four days left, today included).

    >>> forecast_now(Month(2026, 11)).isoformat()
    '2026-11-27T12:00:00+00:00'
    """
    return datetime.combine(month.last_day - timedelta(days=3), datetime.min.time(), UTC) + (
        timedelta(hours=12)
    )


def _timed_pass(settings: Settings, label: str, now: datetime) -> None:
    """In the spawned interpreter: one pass, committed, timed, and the peak memory."""
    from flows.forecasts import run_forecast_pass

    before = peak_rss_mib()
    with connect(settings) as conn:
        began = time.perf_counter()
        result = run_forecast_pass(conn, now=now, reader=lambda: connect(settings))
        conn.commit()
        took = time.perf_counter() - began
        open_by_kind = conn.execute(
            "SELECT kind, count(*) FROM worklist_notices WHERE cleared_at IS NULL"
            " GROUP BY kind ORDER BY kind"
        ).fetchall()
    peak = peak_rss_mib()
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in open_by_kind) or "none"
    print(
        f"  {label}: {took:6.1f} s, {took / TARGET_S:.2f} of the {TARGET_S:.0f} s target; "
        f"peak RSS {peak:,.0f} MiB ({before:,.0f} MiB after imports)\n"
        f"    {result.judged:,} episodes judged; notices {result.opened:,} opened, "
        f"{result.updated:,} kept, {result.cleared:,} cleared; open now: {kinds}"
    )


def run(settings: Settings, *, patients: int, days: int, reuse: bool = False) -> None:
    month = last_full_month(datetime.now(UTC).date())
    now = forecast_now(month)
    print(
        f"daily billing forecast benchmark: {patients:,} SIMULATED patients, {days} days of "
        f"readings each, the pass as at {now:%Y-%m-%d %H:%M} UTC (SIMULATED data: the figures "
        "are the machine's, not a clinic's)"
    )
    bench = bench_data(settings, patients=patients, days=days, month=month, reuse=reuse)
    with connect(bench) as conn:
        # An earlier run's notices; truncated, not deleted, so that no autovacuum of the
        # dead rows runs beside the first pass (nothing references the notices).
        conn.execute("TRUNCATE worklist_notices")
        conn.commit()
    in_fresh_interpreter(_timed_pass, bench, "first pass     ", now)
    in_fresh_interpreter(_timed_pass, bench, "same pass again", now)
    in_fresh_interpreter(_timed_pass, bench, "the next day   ", now + timedelta(days=1))
