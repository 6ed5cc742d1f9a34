"""The simulated cohort: deterministic, well-formed, time-ordered, with its scenarios."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from hub.domain import DeviceKind, Measure, RejectionCode
from ingest.validation import Validator
from simulators.cohort import PATHWAY_DEVICES, Cohort, build_cohort
from simulators.models import EventKind, Malformation, Pathway, Scenario, SimEvent, SimPatient

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SERIAL = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
KG_PER_LB = 0.45359237


def points(event: SimEvent) -> list[dict[str, Any]]:
    data = orjson.loads(event.payload)
    return data if isinstance(data, list) else [data]


def measured_at(point: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(point["body"]["effective_time_frame"]["date_time"])


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return build_cohort(100, seed=11, end=END, days=30)


@pytest.fixture(scope="module")
def events(cohort: Cohort) -> list[SimEvent]:
    return list(cohort.events())


def series(
    events: list[SimEvent], patient: SimPatient, kind: DeviceKind, measure: Measure
) -> list[tuple[datetime, dict[str, Any]]]:
    device = patient.device(kind)
    assert device is not None
    out = [
        (measured_at(p), p["body"])
        for e in events
        if e.device_serial == device.serial and e.kind is not EventKind.MALFORMED
        for p in points(e)
        if p["header"]["schema_id"]["name"] == measure.value
    ]
    return sorted(out, key=lambda pair: pair[0])


def first_with(cohort: Cohort, scenario: Scenario) -> SimPatient:
    return next(p for p in cohort.patients if p.scenario(scenario) is not None)


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    def fingerprint(seed: int, prefix: str | None = None) -> list[tuple[object, ...]]:
        c = build_cohort(6, seed=seed, end=END, days=5, prefix=prefix)
        return [(e.due, e.device_serial[-7:], e.payload, e.kind) for e in c.events()]

    assert fingerprint(3) == fingerprint(3)
    assert fingerprint(3) != fingerprint(4)
    # A prefix renames; it never changes what is measured.
    assert fingerprint(3) == fingerprint(3, prefix="other-run")


def test_structure_can_be_provisioned(cohort: Cohort) -> None:
    assert [p.pathway for p in cohort.patients[:4]] == list(Pathway)
    serials = [d.serial for p in cohort.patients for d in p.devices]
    assert len(serials) == len(set(serials))
    assert all(SERIAL.match(s) for s in serials)
    assert len(cohort.gateways) == len(cohort.patients)
    assert len({p.sim_id for p in cohort.patients}) == len(cohort.patients)
    for patient in cohort.patients:
        assert tuple(d.kind for d in patient.devices) == PATHWAY_DEVICES[patient.pathway]
        assert {d.kind.value for d in patient.devices} <= {"scale", "bp_cuff", "pulse_oximeter"}
        assert patient.discharge_date <= cohort.start.date()
        b = patient.baseline
        assert 55 <= b.weight_kg <= 130
        assert 110 <= b.systolic <= 150
        assert 65 <= b.diastolic <= 90
        assert 92 <= b.spo2 <= 98
        assert 55 <= b.resting_hr <= 90
        if patient.pathway is Pathway.COPD:
            assert b.spo2 < 95
    units = Counter(d.weight_unit for p in cohort.patients for d in p.devices)
    assert units["lb"] > 0
    assert units["kg"] > 0


def test_events_are_time_ordered_utc_and_inside_the_window(
    cohort: Cohort, events: list[SimEvent]
) -> None:
    assert len(events) > 10_000
    assert all(a.due <= b.due for a, b in itertools.pairwise(events))
    assert all(e.due.utcoffset() == timedelta(0) for e in events)
    assert cohort.start <= events[0].due
    assert events[-1].due < cohort.end
    serials = {d.serial: p.gateway_key for p in cohort.patients for d in p.devices}
    assert all(serials[e.device_serial] == e.gateway_key for e in events)


def test_consecutive_windows_continue_one_another() -> None:
    c = build_cohort(8, seed=5, end=END, days=6)
    middle = END - timedelta(days=2, hours=7)
    split = [*c.events(c.start, middle), *c.events(middle, c.end)]
    assert split == list(c.events())
    # The stream goes on after the window (``--follow``).
    after = list(c.events(END, END + timedelta(days=1)))
    assert after
    assert all(END <= e.due < END + timedelta(days=1) for e in after)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(future_tolerance=timedelta(minutes=5))


def test_valid_payloads_are_open_mhealth_data_points(events: list[SimEvent]) -> None:
    names: Counter[Measure] = Counter()
    for event in events:
        if event.kind is EventKind.MALFORMED:
            continue
        batch = points(event)
        assert len(batch) == event.n_points == event.n_valid
        assert isinstance(orjson.loads(event.payload), list) == (event.kind is EventKind.LATE_BATCH)
        for point in batch:
            header = point["header"]
            measure = Measure(header["schema_id"]["name"])
            assert header["schema_id"] == {
                "namespace": "omh",
                "name": measure.value,
                "version": "1.0",
            }
            assert header["acquisition_provenance"]["modality"] == "sensed"
            assert measured_at(point) <= event.due
            names[measure] += 1
    # The cohort's devices are scales, cuffs and oximeters: no thermometer (body
    # temperature is sent with omh.measure_body, tests/test_body_temperature.py).
    assert set(names) == set(Measure) - {Measure.BODY_TEMPERATURE}


def test_the_hub_stores_valid_and_rejects_malformed_messages(
    cohort: Cohort, events: list[SimEvent], validator: Validator
) -> None:
    expected = {
        Malformation.TRUNCATED_JSON: {RejectionCode.MALFORMED_JSON},
        Malformation.UNIT_UNSUPPORTED: {
            RejectionCode.UNIT_UNSUPPORTED,
            RejectionCode.SCHEMA_INVALID,
        },
        Malformation.IMPLAUSIBLE_VALUE: {
            RejectionCode.IMPLAUSIBLE_VALUE,
            RejectionCode.SCHEMA_INVALID,
        },
        Malformation.TIME_IN_FUTURE: {RejectionCode.TIME_IN_FUTURE},
    }
    for event in events:
        message = validator.parse(event.payload, now=cohort.end)
        assert len(message.points) == event.n_valid
        if event.malformation is None:
            assert message.rejections == ()
        else:
            assert len(message.rejections) == 1
            assert message.rejections[0].code in expected[event.malformation]


def test_late_batches_arrive_hours_after_measurement(events: list[SimEvent]) -> None:
    late = [e for e in events if e.kind is EventKind.LATE_BATCH]
    assert len(late) > 20
    for event in late:
        assert max(measured_at(p) for p in points(event)) < event.due
        assert len(points(event)) <= 500
    assert any(
        event.due - min(map(measured_at, points(event))) > timedelta(hours=2) for event in late
    )
    # One outage, one batch per device, even when the outage spans midnight.
    dues = sorted((e.device_serial, e.due) for e in late)
    for (serial_a, due_a), (serial_b, due_b) in itertools.pairwise(dues):
        assert serial_a != serial_b or due_b - due_a > timedelta(hours=1)
    assert any(min(measured_at(p) for p in points(e)).date() < e.due.date() for e in late)


def test_about_half_a_percent_is_malformed_in_every_way(
    cohort: Cohort, events: list[SimEvent]
) -> None:
    bad = [e for e in events if e.kind is EventKind.MALFORMED]
    assert 0.003 < len(bad) / len(events) < 0.008
    assert {e.malformation for e in bad} == set(Malformation)
    for event in bad:
        assert event.n_valid == 0
        if event.malformation is Malformation.TRUNCATED_JSON:
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(event.payload)
            continue
        body = points(event)[0]["body"]
        value = next(v for k, v in body.items() if isinstance(v, dict) and "unit" in v)
        if event.malformation is Malformation.UNIT_UNSUPPORTED:
            assert value["unit"] not in {"kg", "lb", "mmHg", "beats/min", "%"}
        elif event.malformation is Malformation.IMPLAUSIBLE_VALUE:
            kg = value["value"] * (KG_PER_LB if value["unit"] == "lb" else 1)
            plausible = {"kg": (20, 350), "lb": (20, 350), "mmHg": (50, 300)}
            low, high = plausible.get(value["unit"], (20, 110))
            assert not low <= kg <= high
        else:
            assert measured_at(points(event)[0]) > cohort.end


def test_chf_fluid_gain_shows_in_the_weights(cohort: Cohort, events: list[SimEvent]) -> None:
    patient = first_with(cohort, Scenario.FLUID_GAIN)
    spec = patient.scenario(Scenario.FLUID_GAIN)
    assert spec is not None
    assert 5 <= spec.days <= 7
    assert 0.3 <= spec.magnitude <= 0.5
    kg = [
        (
            at,
            body["body_weight"]["value"]
            * (KG_PER_LB if body["body_weight"]["unit"] == "lb" else 1),
        )
        for at, body in series(events, patient, DeviceKind.SCALE, Measure.BODY_WEIGHT)
    ]
    before = [w for at, w in kg if spec.onset - timedelta(days=6) <= at < spec.onset]
    # From the last day of the gain on, the weight stays up.
    gained = [w for at, w in kg if at >= spec.onset + timedelta(days=spec.days - 1)]
    gain = statistics.mean(gained) - statistics.mean(before)
    assert 0.7 * spec.magnitude * spec.days < gain < spec.magnitude * spec.days + 0.8


def test_hypertensive_crisis_spikes_the_pressure(cohort: Cohort, events: list[SimEvent]) -> None:
    patient = first_with(cohort, Scenario.HYPERTENSIVE_CRISIS)
    spec = patient.scenario(Scenario.HYPERTENSIVE_CRISIS)
    assert spec is not None
    bp = series(events, patient, DeviceKind.BP_CUFF, Measure.BLOOD_PRESSURE)
    during = [
        b
        for at, b in bp
        if spec.onset + timedelta(hours=6) <= at < spec.onset + timedelta(days=spec.days)
    ]
    usual = [b for at, b in bp if at < spec.onset]
    assert during
    assert max(b["systolic_blood_pressure"]["value"] for b in during) >= 180
    assert statistics.mean(b["systolic_blood_pressure"]["value"] for b in usual) < 160


def test_copd_spo2_declines(cohort: Cohort, events: list[SimEvent]) -> None:
    patient = first_with(cohort, Scenario.SPO2_DECLINE)
    assert patient.pathway is Pathway.COPD
    spec = patient.scenario(Scenario.SPO2_DECLINE)
    assert spec is not None
    spo2 = series(events, patient, DeviceKind.PULSE_OXIMETER, Measure.OXYGEN_SATURATION)
    before = [b["oxygen_saturation"]["value"] for at, b in spo2 if at < spec.onset]
    after = [
        b["oxygen_saturation"]["value"]
        for at, b in spo2
        if at >= spec.onset + timedelta(days=spec.days)
    ]
    assert statistics.mean(before) - statistics.mean(after) > 3.5


def test_non_adherent_patient_stops_measuring(cohort: Cohort, events: list[SimEvent]) -> None:
    patient = first_with(cohort, Scenario.NON_ADHERENT)
    spec = patient.scenario(Scenario.NON_ADHERENT)
    assert spec is not None
    mine = [e for e in events if e.gateway_key == patient.gateway_key]
    assert any(e.due < spec.onset for e in mine)
    measured = [
        measured_at(p) for e in mine if e.kind is not EventKind.MALFORMED for p in points(e)
    ]
    assert measured
    assert max(measured) < spec.onset


def test_routines_morning_evening_and_missed_days(cohort: Cohort, events: list[SimEvent]) -> None:
    patient = next(p for p in cohort.patients if not p.scenarios and p.pathway is Pathway.CHF)
    weights = series(events, patient, DeviceKind.SCALE, Measure.BODY_WEIGHT)
    bp = series(events, patient, DeviceKind.BP_CUFF, Measure.BLOOD_PRESSURE)
    assert all(5 <= at.hour <= 10 for at, _ in weights)
    assert {at.hour < 12 for at, _ in bp} == {True, False}
    # Over the whole cohort, 5-10 % of days are missed (plus a few single slots).
    days_with_weight = []
    for p in cohort.patients:
        if p.device(DeviceKind.SCALE) is not None and not p.scenarios:
            days = {at.date() for at, _ in series(events, p, DeviceKind.SCALE, Measure.BODY_WEIGHT)}
            days_with_weight.append(len(days) / 30)
    assert 0.82 < statistics.mean(days_with_weight) < 0.96


def test_measured_days_are_the_days_the_readings_are_measured_on() -> None:
    cohort = build_cohort(6, seed=4, end=END, days=10)
    events = list(cohort.events())
    for patient in cohort.patients:
        mine = [e for e in events if e.gateway_key == patient.gateway_key]
        first = cohort.start.date() + timedelta(days=1)  # the window starts within a day
        sent = {
            measured_at(p).date()
            for e in mine
            if e.kind is not EventKind.MALFORMED
            for p in points(e)
        }
        sent = {day for day in sent if day >= first}
        measured = cohort.measured_days(patient, first)
        malformed = sum(e.kind is EventKind.MALFORMED for e in mine)
        assert sent <= measured
        # A malformed message takes a reading; an outage still on at the end holds some back.
        assert len(measured - sent) <= malformed + 1


def test_sporadic_patients_miss_most_days() -> None:
    cohort = build_cohort(60, seed=2, end=END, days=30)
    sporadic = [p for p in cohort.patients if p.scenario(Scenario.SPORADIC)]
    assert 4 <= len(sporadic) <= 16  # about one in seven of the later patients
    for patient in sporadic:
        spec = patient.scenario(Scenario.SPORADIC)
        assert spec is not None
        assert 0.6 <= spec.magnitude <= 0.75
        days = cohort.measured_days(patient, cohort.start.date() + timedelta(days=1))
        assert len(days) <= 20


def test_naive_end_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_cohort(2, end=datetime(2026, 11, 30))  # noqa: DTZ001
    with pytest.raises(ValueError, match="prefix"):
        build_cohort(2, end=END, prefix="no spaces")
