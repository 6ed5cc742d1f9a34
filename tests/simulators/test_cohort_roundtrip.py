"""A simulated cohort exported to a file and run with ``--cohort`` gives the in-process alerts.

The in-process reference takes the simulator's readings with the values its
gateways send (the data point's value, in the unit sent, converted with the
hub's unit table), keeps the first of each (device, measure, time) in the
hub's arrival order, and runs them through the hub's monitor factory and the
alert ledger. The file path goes through the file, its lines shuffled and
some re-sent, the hub's validator and the reader.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from click.testing import CliRunner

from hub.alerting import Detection, StreamReading
from hub.domain import Measure
from ingest.units import to_canonical
from simulators.evaluation.cohort_cli import cohort_eval
from simulators.evaluation.cohort_run import hub_factory
from simulators.evaluation.eval_cli import eval_command
from simulators.evaluation.evaluate import OURS, RELEVANT
from simulators.groundtruth import TruthCohort, build_truth_cohort, to_data_point
from streaming.alert_ledger import AlertLedger, AlertRecord, Stamp, group_firings
from streaming.alert_scoring import OutcomeEvent, score_alerts
from streaming.rows import position_of
from streaming.rule_of_thumb import SOURCE, WeightRuleOfThumb
from streaming.service import Enrolment, Monitor

LB_EVERY = 3
#: A seed whose 10 patients have deteriorations of each kind in 150 days.
SEED = 3
_FIELD = {
    Measure.BODY_WEIGHT: "body_weight",
    Measure.HEART_RATE: "heart_rate",
    Measure.OXYGEN_SATURATION: "oxygen_saturation",
}


@pytest.fixture(scope="module")
def truth() -> TruthCohort:
    return build_truth_cohort(10, seed=SEED, start=datetime(2026, 1, 1, tzinfo=UTC), days=150)


def as_sent(r: StreamReading, unit: str) -> StreamReading:
    body = to_data_point(r, header_id="h", source_name="s", weight_unit=unit)["body"]
    if r.measure is Measure.BLOOD_PRESSURE:
        value = float(body["systolic_blood_pressure"]["value"])
        value2 = float(body["diastolic_blood_pressure"]["value"])
        return dataclasses.replace(r, value=value, value2=value2)
    sent = body[_FIELD[r.measure]]
    canonical = to_canonical(r.measure, float(sent["value"]), sent["unit"])
    assert canonical is not None
    return dataclasses.replace(r, value=canonical, value2=None)


def in_process(truth: TruthCohort) -> tuple[list[AlertRecord], list[AlertRecord]]:
    """Our alerts and the 2 kg rule's, from the readings as sent, in the hub's order."""
    units = {
        p.patient_id: "lb" if p.index % LB_EVERY == LB_EVERY - 1 else "kg" for p in truth.patients
    }
    pathways = {p.patient_id: p.pathway.value for p in truth.patients}
    seen: set[tuple[int, Measure, datetime]] = set()
    make = hub_factory()
    monitors: dict[UUID, Monitor] = {}
    rules: dict[UUID, WeightRuleOfThumb] = {}
    ledger = AlertLedger()
    firings: list[tuple[Detection, Stamp]] = []
    for r in sorted((as_sent(r, units[r.patient_id]) for r in truth.readings()), key=position_of):
        key = (r.device_id, r.measure, r.measured_at)
        if key in seen:
            continue
        seen.add(key)
        pid = r.patient_id
        monitor = monitors.get(pid) or monitors.setdefault(
            pid, make(pid, Enrolment(pathways[pid], "UTC", {}))
        )
        stamp = Stamp(r.measured_at, r.received_at)
        for d in monitor.process(r):
            ledger.detection(d, stamp)
        for c in monitor.pop_closures():
            if ledger.closure(c, stamp) is not None:
                monitor.resolve(c.kind)
        rule = rules.setdefault(pid, WeightRuleOfThumb(source=SOURCE))
        fired = rule.update(r)
        if fired is not None:
            firings.append((fired, stamp))
    return ledger.records(), group_firings(firings)


def shuffled_with_resends(path: Path) -> None:
    """The file's lines in a random order, with some readings sent again a day later."""
    lines = path.read_bytes().splitlines(keepends=True)
    rng = random.Random(5)
    again = []
    for raw in rng.sample([x for x in lines if b'"type":"reading"' in x], 40):
        doc: dict[str, Any] = orjson.loads(raw)
        received = datetime.fromisoformat(doc["received_at"]) + timedelta(days=1)
        doc["received_at"] = received.strftime("%Y-%m-%dT%H:%M:%SZ")
        again.append(orjson.dumps(doc) + b"\n")
    lines += again
    rng.shuffle(lines)
    path.write_bytes(b"".join(lines))


def test_the_file_path_gives_the_in_process_alerts_and_scores(
    truth: TruthCohort, tmp_path: Path
) -> None:
    path = tmp_path / "sim.ndjson"
    result = CliRunner().invoke(
        eval_command,
        [
            "--export-cohort",
            str(path),
            "--seed",
            str(SEED),
            "--patients",
            "10",
            "--days",
            "150",
            "--lb-every",
            str(LB_EVERY),
        ],
    )
    assert result.exit_code == 0, result.output
    first = orjson.loads(path.read_bytes().split(b"\n", 1)[0])
    assert (first["type"], first["simulated"], first["seed"]) == ("meta", True, SEED)
    assert b'"unit":"lb"' in path.read_bytes()
    shuffled_with_resends(path)

    out = tmp_path / "out"
    cohort, run = cohort_eval(path, out, echo=lambda _: None, plot=False)
    ours, rule = in_process(truth)
    assert cohort.counts.duplicates == 40
    assert cohort.counts.refused == 0
    assert cohort.counts.stored == truth.n_readings
    assert len(ours) >= 5
    assert any(a.escalations for a in ours)
    assert any(a.closed is not None for a in ours)
    assert run.alerts == ours
    assert run.rule[2.0] == rule

    events = [
        OutcomeEvent(
            e.patient_id,
            e.kind.value,
            e.event_time,
            RELEVANT[e.kind],
            onset=e.onset,
            gain_kg=None if "gain_kg" not in e.params else round(e.params["gain_kg"], 3),
        )
        for e in truth.truth.events
        if e.kind.deterioration
    ]
    assert len(events) == len(cohort.events) >= 2
    card = score_alerts(OURS, ours, events, patient_years=truth.truth.patient_years)
    scores = orjson.loads((out / "scores.json").read_bytes())
    table = scores["table"][0]
    assert table["method"] == OURS
    assert (table["alerts"], table["unexplained"]) == (card.alerts, card.unexplained)
    assert table["patient_years"] == pytest.approx(card.patient_years)
    for kind, s in card.by_event_kind.items():
        got = table["by_event_kind"][kind]
        assert (got["events"], got["detected"], got["median_lead_days"]) == (
            s.events,
            s.detected,
            s.median_lead_days,
        )
        assert got["by_gain"] == [
            {"band": b.label, "events": b.events, "detected": b.detected} for b in s.by_gain
        ]
