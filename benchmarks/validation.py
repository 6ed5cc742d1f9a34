"""Microseconds per data point of ``Validator.parse``, end to end.

Run from the repository root: ``.venv/bin/python -m benchmarks.validation
[--seconds 1.0]`` (``.venv/bin/python benchmarks/validation.py`` works too).

Measures typical gateway payloads, from bytes to :class:`ParsedMessage`:
single-point messages of each measure, a 100-point array of mixed measures,
and, for comparison, fastjsonschema alone validating an already-decoded point
(the reference validator the fast path stands in for). Prints the best of
several rounds, in µs per point, and points per second.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from hub.domain import ParsedMessage

NOW = datetime(2024, 3, 1, 18, 0, tzinfo=UTC)


def data_point(name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "header": {
            "id": str(uuid.uuid4()),
            "creation_date_time": "2024-03-01T07:31:02Z",
            "schema_id": {"namespace": "omh", "name": name, "version": version},
            "acquisition_provenance": {"source_name": "Lastmile gateway", "modality": "sensed"},
        },
        "body": body,
    }


def _at(when: str) -> dict[str, Any]:
    return {"date_time": when}


TYPICAL: dict[str, dict[str, Any]] = {
    "blood-pressure 4.0": data_point(
        "blood-pressure",
        "4.0",
        {
            "systolic_blood_pressure": {"value": 128, "unit": "mmHg"},
            "diastolic_blood_pressure": {"value": 82, "unit": "mmHg"},
            "effective_time_frame": _at("2024-03-01T07:30:00-05:00"),
            "body_posture": "sitting",
        },
    ),
    "body-weight 3.0 (lb)": data_point(
        "body-weight",
        "3.0",
        {
            "body_weight": {"value": 182.4, "unit": "lb"},
            "effective_time_frame": _at("2024-03-01T07:29:10-05:00"),
        },
    ),
    "oxygen-saturation 2.0": data_point(
        "oxygen-saturation",
        "2.0",
        {
            "oxygen_saturation": {"value": 96, "unit": "%"},
            "effective_time_frame": _at("2024-03-01T12:29:10Z"),
            "measurement_method": "pulse oximetry",
        },
    ),
    "heart-rate 2.0 (interval)": data_point(
        "heart-rate",
        "2.0",
        {
            "heart_rate": {"value": 71, "unit": "beats/min"},
            "effective_time_frame": {
                "time_interval": {
                    "start_date_time": "2024-03-01T07:29:00-05:00",
                    "end_date_time": "2024-03-01T07:30:00-05:00",
                }
            },
        },
    ),
}


def best_of(function: Callable[[], object], *, seconds: float, rounds: int = 5) -> float:
    """Best mean seconds per call over ``rounds`` rounds of about ``seconds`` each."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / rounds:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(rounds - 1):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def report(label: str, per_call: float, points: int) -> None:
    micros = per_call / points * 1e6
    print(f"{label:<44} {micros:8.2f} µs/point {points / per_call:>12,.0f} points/s")


def _prefer_repository_root() -> None:
    """Run as a file, ``benchmarks/`` is ``sys.path[0]`` and its ``ingest.py``
    would shadow the ``ingest`` package: look in the repository first."""
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path[0] = str(here.parent)


def main() -> None:
    _prefer_repository_root()
    from hub.domain import Measure
    from ingest.schemas import reference_validator
    from ingest.validation import Validator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    validator = Validator(future_tolerance=timedelta(minutes=10))

    def parse(payload: bytes) -> ParsedMessage:
        return validator.parse(payload, now=NOW)

    print("parse(), single-point messages:")
    for label, point in TYPICAL.items():
        payload = orjson.dumps(point)
        message = validator.parse(payload, now=NOW)
        assert len(message.points) == 1, message.rejections
        report(
            f"  {label} ({len(payload)} B)", best_of(partial(parse, payload), seconds=seconds), 1
        )
    array = [TYPICAL[label] for label in sorted(TYPICAL)] * 25
    payload = orjson.dumps(array)
    assert len(validator.parse(payload, now=NOW).points) == 100
    print("parse(), one array message:")
    report(
        f"  100 mixed points ({len(payload)} B)",
        best_of(lambda: validator.parse(payload, now=NOW), seconds=seconds),
        100,
    )
    print("fastjsonschema reference alone (decoded point, no normalization):")
    point = TYPICAL["blood-pressure 4.0"]
    reference = reference_validator(Measure.BLOOD_PRESSURE, "4.0")
    report("  blood-pressure 4.0", best_of(lambda: reference(point), seconds=seconds), 1)


if __name__ == "__main__":
    main()
