"""Pharmacy benchmark: figures, not a test. ``lastmile bench pharmacy`` runs it.

On the benchmark's own private services, with **simulated** fills only:

(a) import a CSV of ``rows`` fills for ``patients`` enrolled patients through
    the same path as ``lastmile import dispenses`` (validation as FHIR
    ``MedicationDispense``, classification, storage, refill checks on
    arrival), committed every 5,000 rows: rows per second;
(b) the full refill and PDC pass over every patient (what the adherence
    schedule runs): seconds, and patients per second.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import cast

from benchmarks.reset import clear_alerts
from flows.refill_checks import check_refills, run_refill_checks
from hub.db import connect, fresh_database
from hub.settings import BENCH_SERVICES, Settings
from ingest.pharmacy_csv import REQUIRED, import_rows, read_rows

BENCH_DB = "lastmile_bench_pharmacy"
SYSTEM = "urn:lastmile:bench-mrn"
#: Simulated medications: names with known ingredients, and one unknown drug.
DRUGS = (
    "lisinopril 10 MG Oral Tablet",
    "losartan 50 MG Oral Tablet",
    "metoprolol succinate 50 MG",
    "furosemide 40 MG Oral Tablet",
    "spironolactone 25 MG",
    "empagliflozin 10 MG",
    "atorvastatin 40 MG",
    "metformin 500 MG",
    "amoxicillin 500 MG",
)


def _enrol(settings: Settings, patients: int) -> None:
    """Patients and their identifiers in bulk (a benchmark's set-up, not the API)."""
    with connect(settings) as conn, conn.cursor() as cur:
        with cur.copy("COPY patients (id, pathway) FROM STDIN") as copy:
            ids = [uuid.UUID(int=i + 1) for i in range(patients)]
            for pid in ids:
                copy.write_row((pid, "CHF"))
        with cur.copy("COPY patient_identifiers (system, value, patient_id) FROM STDIN") as copy:
            for i, pid in enumerate(ids):
                copy.write_row((SYSTEM, f"P{i}", pid))
        conn.commit()


def _csv(rows: int, patients: int, *, end: date, seed: int = 7) -> str:
    """``rows`` simulated fills: each patient's drugs refilled on a rhythm.

    A patient takes one to three drugs; each is refilled when its supply
    runs out, a few days early or late; one patient in six has a gap of
    three to eight weeks somewhere. Rows are written patient by patient
    (a pharmacy's export), oldest fill first.
    """
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*REQUIRED, "medication"])
    per_patient = max(1, rows // patients)
    written = 0
    for patient in range(patients):
        want = per_patient if patient < patients - 1 else rows - written
        drugs = rng.sample(DRUGS, rng.randint(1, 3))
        gap_at = rng.randrange(want) if rng.random() < 1 / 6 else -1
        day = end  # moved below so that the last fill is recent
        fills: list[tuple[date, str, int]] = []
        for n in range(want):
            drug = drugs[n % len(drugs)]
            supply = rng.choice((30, 30, 30, 90))
            fills.append((day, drug, supply))
            if n % len(drugs) == len(drugs) - 1:
                day += timedelta(days=supply // 3 * 3 + rng.randint(-4, 5))
                if n == gap_at:
                    day += timedelta(days=rng.randint(21, 56))
        shift = fills[-1][0] - (end - timedelta(days=rng.randint(0, 20)))
        for filled, drug, supply in fills:
            writer.writerow([SYSTEM, f"P{patient}", "rxnorm", str(1_000_000 + DRUGS.index(drug)),
                             (filled - shift).isoformat(), supply, supply, drug])  # fmt: skip
        written += want
    return out.getvalue()


def run(settings: Settings, *, rows: int, patients: int) -> None:
    bench = fresh_database(settings, BENCH_DB)
    today = datetime.now(UTC).date()
    _enrol(bench, patients)
    text = _csv(rows, patients, end=today - timedelta(days=1))
    print(f"pharmacy benchmark: {rows:,} simulated CSV rows for {patients:,} patients")
    totals = {"stored": 0, "duplicates": 0, "rejected": 0}
    touched: set[uuid.UUID] = set()
    t0 = time.perf_counter()
    with connect(bench) as conn:
        for part in import_rows(conn, read_rows(io.StringIO(text)), batch_size=5000):
            conn.commit()
            totals["stored"] += part.stored
            totals["duplicates"] += part.duplicates
            totals["rejected"] += len(part.rejected)
            touched |= part.patients
        seconds_rows = time.perf_counter() - t0
        for _ in check_refills(conn, touched):
            conn.commit()
    seconds_import = time.perf_counter() - t0
    with connect(bench) as conn:
        clear_alerts(conn)
        conn.commit()
        t1 = time.perf_counter()
        recorded = run_refill_checks(conn, now=datetime.now(UTC))
        conn.commit()
        seconds_pass = time.perf_counter() - t1
        row = conn.execute("SELECT count(DISTINCT patient_id) FROM dispenses").fetchone()
        checked = int(cast("int", row[0])) if row else 0
    print(
        f"  (a) CSV import            {rows / seconds_import:10,.0f} rows/s   "
        f"{seconds_import:.1f} s ({seconds_rows:.1f} s storing, then the refill checks); "
        f"stored {totals['stored']:,}, "
        f"duplicates {totals['duplicates']:,}, rejected {totals['rejected']:,}"
    )
    print(
        f"  (b) refill and PDC pass   {checked / seconds_pass:10,.0f} patients/s   "
        f"{seconds_pass:.1f} s for {checked:,} patients; {recorded:,} alerts recorded"
    )


def main() -> None:
    from hub.services import up
    from hub.settings import load_settings

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    patients = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    run(up(load_settings(**BENCH_SERVICES)), rows=rows, patients=patients)


if __name__ == "__main__":
    main()
