"""Scoring benchmark: figures, not a test. ``lastmile bench scoring`` runs it.

Feeds a year of seeded daily readings per measure to fresh
:class:`~streaming.engine.PatientMonitor` objects (in process, no database)
and prints the cost per reading, and the pickled state each measure adds to
a checkpoint as a ratio to the 2 kB per patient-measure budget. What scoring
adds to the ingest worker's per-reading cost is measured end to end by
``lastmile bench ingest`` (with and without detection, in one run).
"""

from __future__ import annotations

import pickle
import random
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hub.alerting import StreamReading
from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.engine import PatientMonitor

#: Per patient-measure state budget of issue #3, bytes.
STATE_BUDGET = 2048
START = datetime(2026, 1, 5, 7, tzinfo=UTC)


def _series(patient: UUID, measure: Measure, days: int, rng: random.Random) -> list[StreamReading]:
    out = []
    for day in range(days):
        t = START + timedelta(days=day, minutes=rng.uniform(0, 120))
        match measure:
            case Measure.BODY_WEIGHT:
                v, v2 = 80 + rng.gauss(0, 0.4), None
            case Measure.BLOOD_PRESSURE:
                v, v2 = rng.gauss(132, 8), rng.gauss(82, 6)
            case Measure.HEART_RATE:
                v, v2 = rng.gauss(72, 6), None
            case Measure.OXYGEN_SATURATION:
                v, v2 = min(100.0, rng.gauss(96, 1)), None
        out.append(StreamReading(patient, 1, measure, t, round(v, 1), v2, t))
    return out


def score(measure: Measure, *, patients: int = 200, days: int = 365) -> tuple[float, int]:
    """Microseconds per reading, and the largest pickled monitor in bytes."""
    rng = random.Random(20261122)
    pathway = get_pathway("CHF")
    monitors = {}
    readings = []
    for _ in range(patients):
        pid = uuid4()
        monitors[pid] = PatientMonitor(pid, pathway)
        readings.extend(_series(pid, measure, days, rng))
    readings.sort(key=lambda r: r.measured_at)
    began = time.perf_counter()
    for r in readings:
        monitor = monitors[r.patient_id]
        monitor.process(r)
        monitor.pop_closures()  # as the hub does: closures leave with each batch
    per_reading = (time.perf_counter() - began) / len(readings) * 1e6
    empty = len(pickle.dumps(PatientMonitor(uuid4(), pathway), protocol=pickle.HIGHEST_PROTOCOL))
    largest = max(len(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL)) for m in monitors.values())
    return per_reading, largest - empty


def run() -> None:
    print("scoring benchmark: 200 patients x 365 daily readings per measure, in process")
    for measure in Measure:
        us, state = score(measure)
        print(
            f"  {measure.value:<20} {us:6.1f} us/reading   state {state:5,} B"
            f" = {state / STATE_BUDGET:.2f} of the {STATE_BUDGET:,} B budget"
        )


if __name__ == "__main__":
    run()
