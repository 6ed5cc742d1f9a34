"""Reading a cohort file: good lines, each bad line's code, the hub's own rules for readings."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain import Measure
from ingest.validation import Validator
from simulators.evaluation.cohort_format import ProblemLog, patient_uuid
from simulators.evaluation.cohort_reader import Cohort, read_cohort
from tests.simulators.cohort_lines import (
    T0,
    bp_point,
    day,
    event,
    line,
    patient,
    reading,
    weight,
    weight_point,
    z,
)

VALIDATOR = Validator(future_tolerance=timedelta(minutes=5), max_age=timedelta(days=1826))


def enrolled(at: str, *, key: str = "x") -> bytes:
    return line({"type": "patient", "key": key, "pathway": "CHF", "enrolled": at})


def read(*lines: bytes) -> tuple[Cohort, ProblemLog]:
    problems = ProblemLog(io.BytesIO())
    return read_cohort(list(lines), validator=VALIDATOR, problems=problems), problems


def test_a_patients_limits_by_measure_and_their_old_names_are_read() -> None:
    """The keys of ``limits.<measure>`` and the old flat names (docs/pathways.md) both read;
    an operating point goes on top of either under the current keys."""
    from hub.limits import overrides_on_top

    own = {"limits.blood-pressure.systolic.high": 170, "hr_low": 38}
    cohort, problems = read(patient("p1", "COPD", threshold_overrides=own))
    assert problems.counts == {}
    [p] = cohort.patients
    assert dict(p.overrides) == own
    assert overrides_on_top(p.overrides, {"limits.heart-rate.low": 36}) == {
        "limits.blood-pressure.systolic.high": 170,
        "limits.heart-rate.low": 36,
    }


def test_good_lines_in_any_order_make_patients_readings_and_events() -> None:
    cohort, problems = read(
        weight(80.0, 1),
        event(day(20), onset=z(day(10)), gain_kg=2.5),
        line({"type": "meta", "simulated": True}),
        b"\n",
        patient("p1", "CHF", timezone="America/Chicago", threshold_overrides={"spo2_low": 86}),
        weight(80.4, 0),
    )
    assert problems.counts == {}
    [p] = cohort.patients
    assert (p.key, p.pathway, p.timezone, dict(p.overrides)) == (
        "p1",
        "CHF",
        "America/Chicago",
        {"spo2_low": 86},
    )
    assert p.patient_id == patient_uuid("p1")
    assert p.until == day(1) + timedelta(minutes=5)  # the last receipt
    [e] = cohort.events
    assert (e.kind, e.admission, e.onset, e.gain_kg) == ("decompensation", day(20), day(10), 2.5)
    assert [r.value for r in cohort.readings()] == [80.4, 80.0]  # arrival order
    assert cohort.meta == ({"simulated": True},)
    c = cohort.counts
    assert (c.lines, c.patient_lines, c.reading_lines) == (6, 1, 2)
    assert (c.event_lines, c.meta_lines) == (1, 1)
    assert (c.points, c.stored, c.duplicates, c.refused) == (2, 2, 0, 0)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_an_object"),
        (line({"type": "patients", "key": "x"}), "type_unknown"),
        (line({"key": "x"}), "type_unknown"),
        (line({"type": "patient", "key": "x", "pathway": "CHF"}), "field_missing"),
        (patient("x", recieved="2026-01-01T00:00:00Z"), "field_unknown"),
        (patient("x", "HF"), "field_invalid"),
        (patient("x", timezone="Mars/Olympus"), "field_invalid"),
        (patient("x", until="2025-01-01T00:00:00Z"), "field_invalid"),
        (patient("x", threshold_overrides={"spo2_lo": 80}), "overrides_invalid"),
        (
            patient("x", threshold_overrides={"hr_low": 38, "limits.heart-rate.low": 37}),
            "overrides_invalid",  # one value named twice, by its old and its new key
        ),
        (
            patient("x", threshold_overrides={"limits.body-temperature.high": 38}),
            "overrides_invalid",
        ),
        (patient("x", threshold_overrides=[1]), "field_invalid"),
        (enrolled(z(T0), key=""), "field_invalid"),
        (enrolled("2026-02-01"), "field_invalid"),
        (enrolled("2026-02-01T00:00:00"), "field_invalid"),  # no offset
        (enrolled("2026-02-30T00:00:00Z"), "field_invalid"),
        (enrolled("20260201T000000Z"), "field_invalid"),  # ISO 8601, not RFC 3339
        (line({"type": "reading", "patient": "p1", "received_at": z(T0)}), "field_missing"),
        (
            line({"type": "reading", "patient": 7, "received_at": z(T0), "data_point": {}}),
            "field_invalid",
        ),
        (event(day(3), kind="heart_attack"), "field_invalid"),
        (event(day(3), onset=z(day(4))), "field_invalid"),
        (event(day(3), gain_kg=-1), "field_invalid"),
        (event(day(3), gain_kg="2"), "field_invalid"),
        (event(day(3), key="nobody"), "patient_unknown"),
        (weight(80.0, 1, key="nobody"), "patient_unknown"),
        (patient("p1"), "patient_duplicate"),
    ],
)
def test_each_bad_line_is_reported_with_its_line_number_and_code(raw: bytes, code: str) -> None:
    cohort, problems = read(patient("p1"), weight(80.0, 0), raw, weight(80.1, 1))
    assert problems.counts == {("line", code): 1}
    assert problems.examples[("line", code)] == [3]
    assert [r.value for r in cohort.readings()] == [80.0, 80.1]  # the run goes on


def test_a_byte_order_mark_and_windows_line_ends_are_fine() -> None:
    cohort, problems = read(
        b"\xef\xbb\xbf" + patient("p1").replace(b"\n", b"\r\n"), weight(80.0, 0)
    )
    assert problems.counts == {}
    assert len(cohort.patients) == 1


def test_the_rejections_file_has_one_line_per_problem() -> None:
    sink = io.BytesIO()
    read_cohort(
        [patient("p1"), b"oops\n", weight(999.0, 1)], validator=VALIDATOR, problems=ProblemLog(sink)
    )
    rows = [orjson.loads(x) for x in sink.getvalue().splitlines()]
    assert [(r["line"], r["category"], r["code"]) for r in rows] == [
        (2, "line", "not_json"),
        (3, "reading", "implausible_value"),
    ]
    assert rows[1]["patient"] == "p1"


def test_an_event_of_a_patient_on_the_default_pathway_needs_its_kind() -> None:
    cohort, problems = read(patient("d", "default"), event(day(3), key="d"))
    assert problems.counts == {("line", "field_missing"): 1}
    assert cohort.events == ()
    cohort, problems = read(patient("d", "default"), event(day(3), key="d", kind="decompensation"))
    assert [e.kind for e in cohort.events] == ["decompensation"]


def test_default_event_kinds_follow_the_pathway() -> None:
    cohort, _ = read(
        patient("a", "CHF"),
        patient("b", "COPD"),
        patient("c", "HTN"),
        *(event(day(3), key=k) for k in "abc"),
    )
    assert [e.kind for e in cohort.events] == [
        "decompensation",
        "copd_exacerbation",
        "hypertensive_episode",
    ]


def test_readings_the_hub_refuses_get_the_hubs_codes_counted_by_code() -> None:
    at = day(1)
    cohort, problems = read(
        patient("p1"),
        weight(80.0, 0),
        weight(999.0, 1),  # implausible
        weight(81.0, 2, late_min=-60),  # measured an hour after it arrived
        reading({"header": {}, "body": {}}, at),
        reading(weight_point(80.0, at, unit="stone"), at),
        reading("not a point", at),
    )
    assert problems.by_code("reading") == {
        "implausible_value": 1,
        "schema_invalid": 3,
        "time_in_future": 1,
    }
    assert problems.total("line") == 0
    assert [r.value for r in cohort.readings()] == [80.0]
    assert cohort.counts.refused == 5


def test_pounds_are_converted_to_kilograms() -> None:
    cohort, _ = read(patient("p1"), weight(176.4, 0, unit="lb"))
    [r] = cohort.readings()
    assert r.measure is Measure.BODY_WEIGHT
    assert r.value == pytest.approx(80.01, abs=0.01)


def test_a_payload_array_is_several_readings() -> None:
    points = [weight_point(80.0, day(0), header="a"), bp_point(130, 80, day(0, 7.1))]
    cohort, _ = read(patient("p1"), reading(points, day(0, 8)))
    assert [(r.measure, r.value, r.value2) for r in cohort.readings()] == [
        (Measure.BODY_WEIGHT, 80.0, None),
        (Measure.BLOOD_PRESSURE, 130.0, 80.0),
    ]


def test_a_duplicate_is_stored_once_the_first_to_arrive_wins() -> None:
    at = day(0)
    cohort, problems = read(
        patient("p1"),
        reading(weight_point(80.5, at), at + timedelta(hours=3)),  # a resend, arrives later
        reading(weight_point(80.0, at), at + timedelta(hours=1)),
        reading(weight_point(80.0, at), at + timedelta(hours=1)),  # QoS 1 redelivery
        reading(weight_point(81.0, at), at + timedelta(hours=2), device="other-scale"),
    )
    assert [(r.value, r.received_at) for r in cohort.readings()] == [
        (80.0, at + timedelta(hours=1)),
        (81.0, at + timedelta(hours=2)),  # another device: not a duplicate
    ]
    assert cohort.counts.duplicates == 2
    assert problems.counts == {}


def test_ties_in_arrival_order_fall_by_measurement_time_device_and_measure() -> None:
    got = day(0, 9)
    cohort, _ = read(
        patient("p1"),
        reading(bp_point(130, 80, day(0, 8)), got, device="b-cuff"),
        reading(weight_point(80.0, day(0, 8)), got, device="a-scale"),
        reading(weight_point(79.0, day(0, 7)), got, device="z-scale"),
    )
    rs = list(cohort.readings())
    assert [(r.measured_at, r.measure) for r in rs] == [
        (day(0, 7), Measure.BODY_WEIGHT),
        (day(0, 8), Measure.BODY_WEIGHT),  # device a-scale sorts before b-cuff
        (day(0, 8), Measure.BLOOD_PRESSURE),
    ]
    assert rs[1].device_id < rs[2].device_id
    [p] = cohort.patients
    assert sorted(p.device_ids) == sorted({r.device_id for r in rs})


_LINES = [
    patient("p1"),
    patient("p2", "HTN"),
    weight(80.0, 0),
    weight(80.2, 1),
    weight(80.2, 1),
    weight(81.0, 2, late_min=600),
    weight(70.0, 0, key="p2"),
    reading(bp_point(150, 90, day(1)), day(1, 8), key="p2"),
    event(day(9), key="p2"),
]


@settings(max_examples=40, deadline=None)
@given(st.permutations(_LINES))
def test_the_order_of_the_lines_does_not_matter(lines: list[bytes]) -> None:
    want, _ = read(*_LINES)
    got, _ = read(*lines)
    assert list(got.readings()) == list(want.readings())
    assert got.patients == want.patients
    assert [(e.patient.key, e.kind, e.admission) for e in got.events] == [
        (e.patient.key, e.kind, e.admission) for e in want.events
    ]
    assert got.counts.duplicates == 1
