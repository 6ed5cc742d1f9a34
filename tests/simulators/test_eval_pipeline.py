"""A ground-truth cohort through the real pipeline gives the in-process engine's alerts.

Simulated data. The cohort is provisioned, published over MQTT to the real
``lastmile ingest`` subprocess and its alerts are read back
(:mod:`simulators.evaluation.eval_pipeline`), on the test services in a database of the
test's own. It is a v2 cohort with a scale in pounds and a scale that replaced
another, so both go through the hub too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import cast

import pytest

from hub.alerting import AlertKind, Detection, Severity
from hub.db import connect
from hub.domain import Measure
from hub.reading_row import scoring_row
from hub.settings import Settings
from simulators.evaluation.eval_pipeline import (
    SIM_PREFIX,
    PipelineRun,
    pipeline_run,
    pipeline_start,
)
from simulators.evaluation.evaluate import OURS, engine_factory, run_methods
from simulators.groundtruth import TruthCohort
from simulators.gt_models import TruthKind
from simulators.provision import SIM_IDENTIFIER_SYSTEM
from streaming.detectors.base import lower
from streaming.evaluation import alert_episodes
from streaming.rows import stream_reading
from tests.simulators.conftest import find_cohort, has_lb_and_new_scale

pytestmark = [pytest.mark.services, pytest.mark.slow]

_WEIGHTS = """
SELECT d.serial, r.measured_at, r.value, r.original_value, r.original_unit
FROM readings r JOIN devices d ON d.id = r.device_id
WHERE r.measure = 'body-weight'
"""
_STORED = """
SELECT i.value::uuid AS patient_id, r.device_id, r.measure, r.measured_at, r.value, r.value2,
       r.received_at, r.activity
FROM readings r
JOIN patient_identifiers i ON i.patient_id = r.patient_id AND i.system = %(system)s
ORDER BY r.received_at, r.measured_at, r.device_id, r.measure
"""

Episodes = dict[tuple[uuid.UUID, AlertKind], list[tuple[datetime, datetime, Severity]]]


def _wanted(c: TruthCohort) -> bool:
    decompensations = c.truth.of_kind(TruthKind.DECOMPENSATION)
    return has_lb_and_new_scale(c) and any(e.params["gain_kg"] >= 2.0 for e in decompensations)


@pytest.fixture(scope="module")
def cohort() -> TruthCohort:
    return find_cohort(8, start=pipeline_start(60), days=60, want=_wanted)


#: A stored weight: serial, measured at, kg, value as sent, unit as sent.
Weight = tuple[str, datetime, float, float, str]
Piped = tuple[PipelineRun, list[Detection], list[Weight]]


@pytest.fixture(scope="module")
def piped(services: Settings, cohort: TruthCohort) -> Iterator[Piped]:
    """The pipeline run, the stored readings replayed in process, and the stored weights."""
    database = f"t_eval_{uuid.uuid4().hex[:12]}"
    try:
        run = pipeline_run(cohort, settings=services, database=database)
        with connect(services, dbname=database) as conn:
            with conn.cursor(row_factory=scoring_row) as cur:
                rows = cur.execute(_STORED, {"system": SIM_IDENTIFIER_SYSTEM}).fetchall()
            weights = [cast("Weight", tuple(row)) for row in conn.execute(_WEIGHTS).fetchall()]
        stored = [stream_reading(row) for row in rows]
        assert len(stored) == run.stored
        replayed = run_methods(stored, cohort.patients, {OURS: engine_factory()})[OURS]
        yield run, replayed, weights
    finally:
        with connect(services, dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _key(d: Detection) -> tuple[object, ...]:
    return (
        str(d.patient_id), d.kind.value, d.window_end, d.window_start, d.severity.value,
        d.source, d.measure, sorted(d.observed.items()), sorted(d.baseline.items()), d.reason,
    )  # fmt: skip


def _episodes(ds: Iterable[Detection]) -> Episodes:
    ds = list(ds)
    out: Episodes = defaultdict(list)
    for ep in alert_episodes(ds):
        top = max(
            (
                d.severity
                for d in ds
                if d.patient_id == ep.patient_id
                and d.kind == ep.kind
                and ep.start <= d.window_end <= ep.end
            ),
            key=[Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL].index,
        )
        out[(ep.patient_id, ep.kind)].append((ep.start, ep.end, top))
    return out


def test_every_published_point_is_accounted_for(cohort: TruthCohort, piped: Piped) -> None:
    run, _, _ = piped
    assert run.published == cohort.n_readings
    assert run.stored + sum(run.rejected.values()) == run.published - run.duplicates
    # The decompensation is caught through the hub too (a weight-gain alert).
    assert AlertKind.WEIGHT_GAIN in {d.kind for d in run.detections}


def test_pounds_and_a_new_scale_are_stored_as_the_cohort_says(
    cohort: TruthCohort, piped: Piped
) -> None:
    """Every weight stored under its device's serial, in kg equal to the reading, unit kept."""
    _, _, weights = piped
    stored = {(serial, at): (kg, sent, unit) for serial, at, kg, sent, unit in weights}
    index = {p.patient_id: p.index for p in cohort.patients}
    expected = {}
    for r in cohort.readings():
        if r.measure is Measure.BODY_WEIGHT:
            device = cohort.device_of(r)
            expected[(device.serial(SIM_PREFIX, index[r.patient_id]), r.measured_at)] = (
                r.value,
                device.unit,
            )
    assert stored.keys() == expected.keys()
    for key, (value, unit) in expected.items():
        assert stored[key][0] == value, key
        assert stored[key][2] == unit, key
    units = {unit for _, _, unit in stored.values()}
    assert units == {"kg", "lb"}
    assert any(serial.endswith("-SC2") for serial, _ in stored)


def test_the_hub_alerts_exactly_as_the_engine_on_what_it_stored(piped: Piped) -> None:
    """Every piece of evidence the worker wrote, and nothing else, field by field."""
    run, replayed, _ = piped
    assert sorted(map(_key, run.detections)) == sorted(map(_key, replayed))
    assert all(d.source.endswith(":late") for d in run.detections)


def test_pipeline_episodes_equal_in_process_ones_but_late(
    cohort: TruthCohort, piped: Piped
) -> None:
    """Same (patient, kind) episodes with the same windows; severity equal or one lower.

    The in-process run sees the cohort's own arrival times; the hub stamps each
    reading when it arrives, months after it was measured, so the engine
    reports every pipeline detection ``:late`` and one severity lower.
    """
    run, _, _ = piped
    in_process = run_methods(cohort.readings(), cohort.patients, {OURS: engine_factory()})[OURS]
    mine, theirs = _episodes(in_process), _episodes(run.detections)
    assert mine.keys() == theirs.keys()
    for key, episodes in mine.items():
        piped_episodes = theirs[key]
        assert [(s, e) for s, e, _ in piped_episodes] == [(s, e) for s, e, _ in episodes], key
        for (_, _, ours), (_, _, hub) in zip(episodes, piped_episodes, strict=True):
            assert hub in (ours, lower(ours)), key
