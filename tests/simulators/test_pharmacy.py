"""The simulated pharmacy: regimens by pathway, fill patterns, FHIR dispenses the hub accepts."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain import Dispense
from hub.medications import classify
from ingest.dispenses import parse_dispense
from simulators.cohort import Cohort, build_cohort
from simulators.drugs import PATHWAY_CLASSES
from simulators.models import Pathway, Scenario
from simulators.pharmacy import (
    MAX_PER_MESSAGE,
    PHARMACY_SYSTEM,
    CohortPharmacy,
    FillPattern,
    Regimen,
    SimFill,
    draw_pharmacy,
    patient_fills,
)
from simulators.provision import SIM_IDENTIFIER_SYSTEM
from streaming.pdc import Fill, pdc

END = datetime(2026, 6, 1, tzinfo=UTC)


def _plan(n: int = 40, *, seed: int = 0, days: int = 180) -> CohortPharmacy:
    return draw_pharmacy(build_cohort(n, seed=seed, end=END, days=days))


def _fills(plan: CohortPharmacy) -> list[SimFill]:
    return list(plan.fills(until=plan.cohort.end.date()))


def _parsed(fill: SimFill, cohort: Cohort) -> Dispense:
    outcome = parse_dispense(fill.resource(), today=cohort.end.date())
    assert isinstance(outcome, Dispense), (fill, outcome)
    return outcome


def test_the_same_seed_gives_the_same_fills_and_another_seed_others() -> None:
    first, again, other = _plan(seed=5), _plan(seed=5), _plan(seed=6)
    assert [f.resource() for f in _fills(first)] == [f.resource() for f in _fills(again)]
    assert [f.resource() for f in _fills(first)] != [f.resource() for f in _fills(other)]


def test_fills_do_not_depend_on_how_far_ahead_one_looks() -> None:
    plan = _plan(12, days=30)
    until = plan.cohort.end.date()
    early = list(plan.fills(until=until))
    later = [f for f in plan.fills(until=until + timedelta(days=200)) if f.filled_on <= until]
    assert early == later


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=-(2**40), max_value=2**40), days=st.integers(1, 120))
def test_every_fill_classifies_and_passes_the_hubs_validation(seed: int, days: int) -> None:
    plan = _plan(12, seed=seed, days=days)
    fills = _fills(plan)
    assert fills
    for fill in fills:
        dispense = _parsed(fill, plan.cohort)
        assert dispense.classes, fill.drug.text
        assert dispense.classes == classify(fill.drug.text).classes
        assert dispense.identifier == f"{PHARMACY_SYSTEM}|{fill.identifier}"
        assert (dispense.patient_system, dispense.patient_value) == (
            SIM_IDENTIFIER_SYSTEM,
            fill.patient_value,
        )
        assert dispense.quantity is not None
        assert dispense.quantity >= dispense.days_supply
        assert dispense.days_supply in (30, 90)
    assert len({f.identifier for f in fills}) == len(fills)


def test_a_dispense_is_a_completed_fhir_medication_dispense() -> None:
    fill = _fills(_plan(4, days=30))[0]
    resource = fill.resource()
    assert resource["resourceType"] == "MedicationDispense"
    assert resource["status"] == "completed"
    assert resource["identifier"] == [{"system": PHARMACY_SYSTEM, "value": fill.identifier}]
    assert resource["daysSupply"] == {
        "value": fill.days_supply,
        "unit": "d",
        "system": "http://unitsofmeasure.org",
        "code": "d",
    }
    assert set(resource["medicationCodeableConcept"]) == {"text"}  # no invented codes
    assert resource["whenHandedOver"] == fill.filled_on.isoformat()


def test_every_regimen_covers_its_pathways_classes() -> None:
    plan = _plan(120, days=30)
    seen = set()
    for regimen in plan.regimens:
        classes = {c for rx in regimen.prescriptions for c in classify(rx.drug.text).classes}
        assert classes >= PATHWAY_CLASSES[regimen.patient.pathway], regimen
        assert len({rx.drug.key for rx in regimen.prescriptions}) == len(regimen.prescriptions)
        seen.add(regimen.patient.pathway)
    assert seen == set(Pathway)
    assert {r.pattern for r in plan.regimens} == set(FillPattern)


def _pdcs(plan: CohortPharmacy) -> dict[str, dict[str, float]]:
    """Per patient, per class: the PDC over the cohort's window."""
    by: dict[str, dict[str, list[Fill]]] = defaultdict(lambda: defaultdict(list))
    for fill in _fills(plan):
        dispense = _parsed(fill, plan.cohort)
        for name in dispense.classes:
            by[fill.patient_value][name].append(
                Fill(dispense.drug, dispense.filled_on, dispense.days_supply)
            )
    start, end = plan.cohort.start.date(), plan.cohort.end.date()
    out: dict[str, dict[str, float]] = {}
    for patient, classes in by.items():
        results = {n: pdc(f, period_start=start, period_end=end) for n, f in classes.items()}
        out[patient] = {n: r.pdc for n, r in results.items() if r is not None and r.eligible}
    return out


def test_a_lapsing_patients_pdc_is_lower_than_an_adherent_ones() -> None:
    plan = _plan(60)
    pdcs = _pdcs(plan)
    lowest: dict[FillPattern, list[float]] = defaultdict(list)
    for regimen in plan.regimens:
        lowest[regimen.pattern].append(min(pdcs[regimen.patient.sim_id].values()))
    assert lowest[FillPattern.LAPSING]
    assert lowest[FillPattern.ADHERENT]
    assert max(lowest[FillPattern.LAPSING]) < min(lowest[FillPattern.ADHERENT])
    assert max(lowest[FillPattern.LAPSING]) < 0.80 <= min(lowest[FillPattern.ADHERENT])


def test_a_patient_who_stops_a_class_stops_only_that_one() -> None:
    plan = _plan(60)
    stoppers = [r for r in plan.regimens if r.pattern is FillPattern.STOPS_CLASS]
    assert stoppers
    for regimen in stoppers:
        stopped = [rx for rx in regimen.prescriptions if rx.stops is not None]
        assert len(stopped) == 1
        fills = list(patient_fills(regimen, seed=plan.cohort.seed, until=END.date()))
        stops = stopped[0].stops
        assert stops is not None
        assert max(f.filled_on for f in fills if f.drug == stopped[0].drug) < stops
        if regimen.patient.pathway is Pathway.CHF:
            assert classify(stopped[0].drug.text).classes == {"loop_diuretics"}
        # The others go on (a patient on one drug only has no others).
        others = [f.filled_on for f in fills if f.drug != stopped[0].drug]
        assert not others or max(others) > END.date() - timedelta(days=95)


def _diuretic_runs_out(regimen: Regimen, seed: int, until: date) -> date:
    """The day the loop diuretic's supply runs out, early refills shifted as in PDC."""
    run_out = date.min
    for fill in patient_fills(regimen, seed=seed, until=until):
        if "loop_diuretics" in classify(fill.drug.text).classes:
            if fill.filled_on > run_out and run_out != date.min:
                break
            run_out = max(run_out, fill.filled_on) + timedelta(days=fill.days_supply)
    return run_out


def test_the_diuretic_runs_out_a_few_days_before_a_simulated_fluid_gain() -> None:
    cohort = build_cohort(40, seed=2, end=END, days=30)
    plan = draw_pharmacy(cohort)
    gaining = [p for p in cohort.patients if p.scenario(Scenario.FLUID_GAIN) is not None]
    tied = [r for r in plan.regimens if r.pattern is FillPattern.MISSED_DIURETIC]
    assert tied
    assert tied[0].patient == gaining[0]  # the first always, later ones sometimes
    for regimen in tied:
        gain = regimen.patient.scenario(Scenario.FLUID_GAIN)
        assert gain is not None
        ran_out = _diuretic_runs_out(regimen, cohort.seed, END.date())
        assert 3 <= (gain.onset.date() - ran_out).days <= 5
        diuretic = next(rx for rx in regimen.prescriptions if rx.stops is not None)
        assert diuretic.resumes is not None
        assert diuretic.resumes > gain.onset.date()


def test_the_feed_sends_every_fill_once_on_the_hour_after_it_is_handed_over() -> None:
    plan = _plan(30, days=60)
    cohort = plan.cohort
    batches = list(plan.batches(cohort.start, cohort.end))
    assert all(a.due <= b.due for a, b in itertools.pairwise(batches))
    assert all(0 < len(b.fills) <= MAX_PER_MESSAGE for b in batches)
    sent = [f for b in batches for f in b.fills]
    assert sorted(f.identifier for f in sent) == sorted(
        f.identifier for f in _fills(plan) if max(cohort.start, _next_hour(f)) < cohort.end
    )
    for batch in batches:
        assert all(batch.due == max(cohort.start, _next_hour(f)) for f in batch.fills)
        assert [r["identifier"][0]["value"] for r in orjson.loads(batch.payload)] == [
            f.identifier for f in batch.fills
        ]
    # Consecutive windows continue one another: nothing twice, nothing left out.
    middle = cohort.start + (cohort.end - cohort.start) / 2
    halves = [*plan.batches(cohort.start, middle), *plan.batches(middle, cohort.end)]
    assert [f for b in halves for f in b.fills] == sent


def _next_hour(fill: SimFill) -> datetime:
    return fill.handed_at.replace(minute=0, second=0) + timedelta(hours=1)


def test_a_backlog_is_split_into_messages_of_at_most_500() -> None:
    """What was handed over before the window is sent when it starts."""
    plan = _plan(600, days=1)
    start = plan.cohort.start
    first = [b for b in plan.batches(start, plan.cohort.end) if b.due == start]
    assert [len(b.fills) for b in first[:-1]] == [MAX_PER_MESSAGE] * (len(first) - 1)
    assert len(first) > 1
    assert sum(len(b.fills) for b in first) == sum(
        1 for f in plan.fills(until=start.date()) if _next_hour(f) <= start
    )
