"""docs/cohort.md and its example file say what the reader does."""

from __future__ import annotations

import re
from datetime import timedelta

import fastjsonschema
import orjson
import pytest

from hub.domain import Measure
from hub.settings import PROJECT_ROOT
from ingest.validation import Validator
from simulators.evaluation.cohort_format import ProblemLog, parse_line
from simulators.evaluation.cohort_reader import read_cohort

DOC = PROJECT_ROOT / "docs" / "cohort.md"
EXAMPLE = PROJECT_ROOT / "docs" / "cohort-example.ndjson"
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5), max_age=timedelta(days=1826))


def doc_schema() -> dict[str, object]:
    text = DOC.read_text()
    found = re.search(r"### As a JSON Schema.*?```json\n(.*?)```", text, re.S)
    assert found is not None
    schema: dict[str, object] = orjson.loads(found.group(1))
    return schema


def test_the_example_runs_as_the_document_says() -> None:
    problems = ProblemLog()
    cohort = read_cohort(EXAMPLE, validator=VALIDATOR, problems=problems)
    assert problems.by_code("line") == {}
    assert problems.by_code("reading") == {"implausible_value": 1}
    c = cohort.counts
    assert (c.points, c.refused, c.duplicates, c.stored) == (13, 1, 1, 11)
    assert [(e.patient.key, e.kind) for e in cohort.events] == [
        ("chf-017", "decompensation"),
        ("htn-003", "hypertensive_episode"),
    ]
    weights = [r.value for r in cohort.readings() if r.measure is Measure.BODY_WEIGHT]
    assert weights[0] == pytest.approx(182.4 * 0.45359237)
    late = [r for r in cohort.readings() if r.measure is Measure.HEART_RATE]
    assert [(r.received_at - r.measured_at) / timedelta(hours=1) for r in late] == [30.0]


def test_the_documented_schema_accepts_the_example_and_the_reader_agrees() -> None:
    validate = fastjsonschema.compile(doc_schema())
    for number, raw in enumerate(EXAMPLE.read_bytes().splitlines(), start=1):
        validate(orjson.loads(raw))
        assert type(parse_line(raw, number)).__name__ != "LineProblem"


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "patient", "key": "x", "pathway": "CHF"},
        {"type": "patient", "key": "x", "pathway": "HF", "enrolled": "2026-01-01T00:00:00Z"},
        {"type": "reading", "patient": "x", "received_at": "2026-01-01T00:00:00Z"},
        {"type": "event", "patient": "x", "admission": "2026-01-01T00:00:00Z", "note": "?"},
        {"type": "event", "patient": "x", "admission": "2026-01-01T00:00:00Z", "gain_kg": -1},
    ],
)
def test_what_the_schema_refuses_the_reader_refuses(doc: dict[str, object]) -> None:
    validate = fastjsonschema.compile(doc_schema())
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate(doc)
    assert type(parse_line(orjson.dumps(doc), 1)).__name__ == "LineProblem"
