"""Write a simulated ground-truth cohort as a cohort file (``docs/cohort.md``).

Simulated data only. ``lastmile eval --export-cohort FILE --seed N --patients
P --days D`` writes what :func:`simulators.groundtruth.build_truth_cohort`
draws, so the judge's path (``lastmile eval --cohort FILE``) can be run on our
own seeds and checked against the in-process run:

- a ``meta`` line (``"simulated": true``, the seed, the size);
- one ``patient`` line per patient: key = the simulated patient's UUID,
  pathway, ``UTC``, enrolled = the cohort's start, ``until`` = the end of the
  patient's follow-up (the window's end or the drop-out); no discharge (the
  ground truth has none);
- one ``reading`` line per reading, in arrival order: the Open mHealth data
  point :func:`~simulators.groundtruth.to_data_point` makes, in the unit the
  simulated device reports (v2 has scales in pounds; ``lb_every`` also sends
  every ``lb_every``-th patient's weights in ``lb``), its receipt, and the
  device's serial ``sim-<index>-<SC|SC2|BP|OX>`` (a replaced scale has its own);
- one ``event`` line per deterioration of the ground truth: kind, onset,
  admission (the event time) and, for a decompensation, ``gain_kg``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from simulators.evaluation.cohort_report import iso
from simulators.groundtruth import TruthCohort, to_data_point
from simulators.gt_models import TruthEvent

_NAMESPACE = uuid.UUID("0b1f3c9e-5a2d-4e57-8d0e-636f686f7274")


def export_lines(cohort: TruthCohort, *, lb_every: int = 0) -> Iterator[bytes]:
    """The cohort file's lines (each ending in a newline)."""
    truth = cohort.truth
    yield _line(
        {
            "type": "meta",
            "simulated": True,
            "generator": "lastmile build_truth_cohort",
            "seed": truth.seed,
            "patients": len(truth.patients),
            "start": iso(truth.start),
            "end": iso(truth.end),
        }
    )
    for p in truth.patients:
        yield _line(
            {
                "type": "patient",
                "key": str(p.patient_id),
                "pathway": p.pathway.value,
                "timezone": "UTC",
                "enrolled": iso(p.start),
                "until": iso(p.follow_end),
            }
        )
    by_id = {p.patient_id: p for p in truth.patients}
    for r in cohort.readings():
        p = by_id[r.patient_id]
        device = cohort.device_of(r)
        key = f"{r.patient_id}/{r.device_id}/{r.measure.value}/{r.measured_at.isoformat()}"
        forced_lb = lb_every > 0 and p.index % lb_every == lb_every - 1
        point = to_data_point(
            r,
            header_id=str(uuid.uuid5(_NAMESPACE, key)),
            source_name=device.source_name,
            weight_unit="lb" if forced_lb else device.unit,
        )
        yield _line(
            {
                "type": "reading",
                "patient": str(r.patient_id),
                "received_at": iso(r.received_at),
                "device": device.serial("sim", p.index),
                "data_point": point,
            }
        )
    for e in truth.events:
        if e.kind.deterioration:
            yield _line(event_json(e))


def event_json(e: TruthEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "event",
        "patient": str(e.patient_id),
        "kind": e.kind.value,
        "onset": iso(e.onset),
        "admission": iso(e.event_time),
    }
    gain = e.params.get("gain_kg")
    if gain is not None:
        out["gain_kg"] = round(gain, 3)
    return out


def _line(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc) + b"\n"


def export_cohort(cohort: TruthCohort, path: Path, *, lb_every: int = 0) -> int:
    """Write ``cohort`` to ``path``; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("wb") as f:
        for line in export_lines(cohort, lb_every=lb_every):
            f.write(line)
            n += 1
    return n
