"""Worklist and chart benchmark: figures, not a test. ``lastmile bench worklist`` runs it.

On the benchmark's own private services (``BENCH_SERVICES``), in a fresh database,
with simulated data only (``benchmarks/worklist_data.py``):

* ``patients`` patients (100,000) with conditions, a discharge date in the last year
  and discharge-risk inputs scored as enrollment scores them; one identifier and one
  multi-sensor device each; coordinators with ``panel``-patient panels (250), ten
  coordinators to a supervisor;
* unresolved alerts for about one patient in ten (clinical and non-adherence, all
  severities, some acknowledged, some snoozed) and about one resolved alert per
  patient over the year;
* care programmes: an open transitional-care episode for 3 % of the patients
  (discharged in the last three weeks, so their clocks are on the worklist), an
  RPM episode for 30 %, and the billing forecast's notice for 15 % of those;
* readings, one weight, blood pressure, SpO2 and heart rate a day: ``days`` (365) for
  the measured coordinator's panel, by binary COPY straight into the hypertable (the
  ingest path's row layout), and ``background_days`` (90, the chart's window) for every
  other patient, generated inside PostgreSQL, so that each chunk a chart reads holds
  the whole population's day. A year for all 100,000 (146 M rows) is
  ``--background-days 365``.

Then, in a freshly spawned interpreter that imports the app and little else
(``benchmarks/worklist_timing.py``), through the FastAPI app with TestClient
(bearer-token auth, audit log, JSON; no network), as the panel's coordinator:

(a) ``GET /api/v1/worklist`` (the 250-patient panel), ``repeats`` times; (a') the
    same two queries and the scoring without HTTP (``alerts.worklist``); and, for
    information, a supervisor's worklist (ten panels);
(b) ``GET /api/v1/patients/{id}/readings?measure=...&bucket=1d`` over the last 90
    days, ``repeats`` times per measure, a random panel patient each time.

Prints p50, p95 and p99 in ms, and p95 over the target (worklist 100 ms, chart 50 ms). Last,
(a) again after ``gc.freeze()``: the app as it is leaves ~10^5 objects that every full
collection of CPython's garbage collector walks (tens of ms, in some 5-10 % of worklist
requests); frozen after start-up they are skipped, which shows how much of the tail that is.
``--reuse`` keeps the data of an earlier run of the same size instead of generating it.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from datetime import UTC, datetime

import psycopg

from alerts.worklist import high_risk_cutoff
from benchmarks import worklist_data as data
from benchmarks import worklist_timing
from hub.db import connect, fresh_database
from hub.settings import BENCH_SERVICES, Settings

BENCH_DB = "lastmile_bench_worklist"


def plan(*, patients: int, panel: int, days: int) -> data.Cohort:
    coordinators = -(-patients // panel)
    return data.Cohort(
        patients=patients,
        panel=panel,
        coordinators=coordinators,
        supervisors=-(-coordinators // data.COORDINATORS_PER_SUPERVISOR),
        coordinator="bench-c0000",
        supervisor="bench-s000",
        panel_ids=tuple(data.pid(i) for i in range(min(panel, patients))),
        days=days,
    )


def generate(settings: Settings, cohort: data.Cohort, *, background_days: int) -> None:
    rng = random.Random(20261122)
    now = datetime.now(UTC)
    with connect(settings) as conn:
        coordinator_ids = data.users(conn, cohort, now)
        data.patients(conn, cohort, coordinator_ids, now.date(), rng)
        data.alerts(conn, cohort, now, rng)
        data.programmes(conn, cohort, coordinator_ids[0], rng)
        conn.commit()
        data.readings(conn, cohort, background_days=background_days, rng=rng)
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def describe(settings: Settings, cohort: data.Cohort) -> None:
    """What the database holds, counted there (so also for a reused database)."""
    with connect(settings) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM patients),
                      (SELECT count(*) FROM users WHERE role = 'coordinator'),
                      (SELECT count(*) FROM users WHERE role = 'supervisor'),
                      (SELECT count(*) FROM alerts WHERE status <> 'resolved'),
                      (SELECT count(*) FROM alerts WHERE status = 'resolved'),
                      (SELECT count(*) FROM readings WHERE patient_id = ANY(%(panel)s)),
                      approximate_row_count('readings'),
                      pg_size_pretty(hypertable_size('readings')),
                      (SELECT count(*) FILTER (WHERE discharge_risk >= %(cutoff)s)
                       FROM patients),
                      (SELECT count(*) FROM program_episodes
                       WHERE kind = 'TCM' AND ended_on IS NULL),
                      (SELECT count(*) FROM worklist_notices WHERE cleared_at IS NULL)""",
            {"panel": list(cohort.panel_ids), "cutoff": high_risk_cutoff(conn)},
        ).fetchone()
    assert row is not None
    print(
        f"  {row[0]:,} patients, {row[1]:,} coordinators, {row[2]:,} supervisors; "
        f"{row[3]:,} unresolved and {row[4]:,} resolved alerts; {row[8]:,} patients "
        f"high-risk; readings: {row[5]:,} of the measured panel, about {row[6]:,} in all "
        f"({row[7]}); {row[9]:,} open TCM episodes, {row[10]:,} open notices"
    )


def _reusable(settings: Settings, cohort: data.Cohort) -> Settings | None:
    """The benchmark database of an earlier run with as many patients and panel, if any."""
    bench = settings.model_copy(update={"pg_database": BENCH_DB})
    try:
        with connect(bench) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM patients), (SELECT count(*)"
                " FROM patient_coordinators pc JOIN users u ON u.id = pc.user_id"
                " WHERE u.username = %s)",
                (cohort.coordinator,),
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return bench if row == (cohort.patients, len(cohort.panel_ids)) else None


def run(
    settings: Settings,
    *,
    patients: int,
    panel: int,
    days: int,
    background_days: int,
    repeats: int,
    reuse: bool = False,
) -> None:
    cohort = plan(patients=patients, panel=panel, days=days)
    print(
        f"worklist benchmark: {patients:,} simulated patients, {panel}-patient panels; "
        f"readings: {days} days for the measured panel, {background_days} for the others"
    )
    bench = _reusable(settings, cohort) if reuse else None
    if bench is None:
        began = time.perf_counter()
        bench = fresh_database(settings, BENCH_DB)
        generate(bench, cohort, background_days=background_days)
        print(f"  generated in {time.perf_counter() - began:.0f} s")
    else:
        print(f"  reusing the data in {BENCH_DB}")
    describe(bench, cohort)
    spawned = multiprocessing.get_context("spawn")
    timer = spawned.Process(target=worklist_timing.measure, args=(bench, cohort, repeats))
    timer.start()
    timer.join()
    if timer.exitcode != 0:
        raise SystemExit(f"the timed part failed (exit code {timer.exitcode})")


def main() -> None:
    import sys

    from hub.services import up
    from hub.settings import load_settings

    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    run(
        up(load_settings(**BENCH_SERVICES)),
        patients=patients,
        panel=250,
        days=365,
        background_days=worklist_timing.CHART_DAYS,
        repeats=300,
    )


if __name__ == "__main__":
    main()
