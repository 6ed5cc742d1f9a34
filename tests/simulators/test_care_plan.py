"""The simulated practice's care plan: programmes, orders, consent, TCM stories and time.

Pure (no services): the plan of a simulated cohort at the end of its window,
checked against the programme rules and the billing rules it is meant to
exercise. The cohort ends now, so the weekdays and month boundaries differ
from run to run; what is asserted holds on any day.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest

from billing.tcm import business_days_after, is_business_day
from hub.care_programs import Complexity, ProgramKind
from programs.codes import normalize_icd10cm, npi_valid
from programs.models import Activity
from simulators.care_models import NURSES, CarePlan, DeviceOutlook, TcmStory
from simulators.care_outlook import outlook
from simulators.care_plan import CCM_RATE, CONDITIONS, plan_care
from simulators.cohort import Cohort, build_cohort
from simulators.models import Scenario

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    """``lastmile up``'s cohort: 20 patients, seed 0, 30 days to now."""
    return build_cohort(20, seed=0, end=NOW, days=30)


@pytest.fixture(scope="module")
def plan(cohort: Cohort) -> CarePlan:
    return plan_care(cohort)


def test_the_plan_is_a_function_of_the_seed_not_of_the_names(
    cohort: Cohort, plan: CarePlan
) -> None:
    assert plan_care(cohort) == plan
    renamed = plan_care(build_cohort(20, seed=0, end=NOW, days=30, prefix="other"))
    assert [dataclasses.replace(p, gateway_key="") for p in renamed.patients] == [
        dataclasses.replace(p, gateway_key="") for p in plan.patients
    ]
    assert plan_care(build_cohort(20, seed=1, end=NOW, days=30)).patients != plan.patients


def test_most_patients_are_in_rpm_a_third_in_ccm_a_fifth_in_tcm(plan: CarePlan) -> None:
    kinds = Counter(e.kind for p in plan.patients for e in p.episodes)
    rpm = [e for p in plan.patients if (e := p.episode(ProgramKind.RPM)) is not None]
    assert kinds[ProgramKind.RPM] == len(rpm) == 20 - 20 // 10
    assert sum(e.consent_on is None for e in rpm) == 20 // 10  # waiting for their consent
    assert kinds[ProgramKind.TCM] == 20 // 5
    assert 2 <= kinds[ProgramKind.CCM] <= 20 * CCM_RATE * 2
    for care in plan.patients:  # one episode of a kind per patient
        assert len({e.kind for e in care.episodes}) == len(care.episodes)


def test_orders_carry_valid_npis_and_real_conditions_of_the_pathway(
    cohort: Cohort, plan: CarePlan
) -> None:
    assert len({p.npi for p in plan.practitioners}) == 3
    assert all(npi_valid(p.npi) and p.npi[0] == "1" for p in plan.practitioners)
    for patient in cohort.patients:
        for episode in plan.of(patient.gateway_key).episodes:
            assert episode.ordering in plan.practitioners
            assert episode.conditions in CONDITIONS[patient.pathway]
            assert all(normalize_icd10cm(c) == c for c in episode.conditions)
            if episode.kind is ProgramKind.CCM:
                assert len(set(episode.conditions)) >= 2
                assert episode.consent_on == episode.started_on


def test_consented_rpm_has_its_set_up_on_the_first_day_and_starts_in_the_window(
    cohort: Cohort, plan: CarePlan
) -> None:
    today = NOW.date()
    for care in plan.patients:
        rpm = care.episode(ProgramKind.RPM)
        if rpm is None:
            continue
        assert cohort.start.date() < rpm.started_on <= today
        assert today - rpm.started_on < timedelta(days=30)  # the period holding today is the first
        if rpm.consent_on is None:
            assert rpm.setup_on is None
            assert care.device is None
            assert not [e for e in care.entries if e.kind is ProgramKind.RPM]
        else:
            assert rpm.consent_on == rpm.setup_on == rpm.started_on


def test_time_is_within_its_episode_after_consent_and_never_after_now(plan: CarePlan) -> None:
    for care in plan.patients:
        for entry in care.entries:
            episode = care.episode(entry.kind)
            assert episode is not None
            first = episode.consent_on or episode.started_on
            assert first <= entry.started_at.date() <= NOW.date()
            assert entry.started_at + timedelta(minutes=entry.minutes) <= NOW
            assert 1 <= entry.minutes <= 45
            assert 0 <= entry.nurse < NURSES
    entries = [e for c in plan.patients for e in c.entries]
    calls = [e for e in entries if e.work.activity is Activity.CALL]
    reviews = [e for e in entries if e.work.activity is Activity.DATA_REVIEW]
    assert {e.work.interactive for e in calls} == {True, False}  # live calls, and unanswered
    assert all(5 <= e.minutes <= 20 for e in calls if e.work.interactive)
    assert reviews
    assert all(e.minutes <= 6 for e in reviews)
    assert any(e.work.activity is Activity.CARE_PLAN_UPDATE for e in entries)
    # Covering: the other nurse logs now and then.
    assert any(e.nurse != c.nurse for c in plan.patients for e in c.entries)


def test_the_month_shows_billable_reachable_and_lost_patients(
    cohort: Cohort, plan: CarePlan
) -> None:
    seen = outlook(plan)
    assert seen.billable + seen.reachable >= 6, seen.summary()
    # Except in a month's first minutes, when no time fits in it yet (none is logged
    # after now): then those on track are reachable still, not billable.
    if NOW - datetime.combine(NOW.date().replace(day=1), time(), UTC) >= timedelta(hours=1):
        assert min(seen.billable, seen.reachable) >= 3, seen.summary()
    assert seen.lost >= 1, seen.summary()
    assert seen.billable + seen.reachable + seen.lost == 20 - 2 * (20 // 10)
    assert (seen.awaiting_consent, seen.without_rpm) == (2, 2)
    # The lost are the patients who skip days (the cohort has such patients).
    sporadic = {p.gateway_key for p in cohort.patients if p.scenario(Scenario.SPORADIC)}
    lost = {c.gateway_key for c in plan.patients if c.device is DeviceOutlook.LOST}
    assert lost
    assert lost <= sporadic | {
        p.gateway_key for p in cohort.patients if p.scenario(Scenario.NON_ADHERENT)
    }
    assert f"{seen.billable} billable" in seen.summary()


def test_tcm_deadlines_are_spread_over_the_stories(plan: CarePlan) -> None:
    today = NOW.date()
    stories = {c.tcm: c for c in plan.patients if c.tcm is not None}
    assert set(stories) == set(TcmStory)
    complexities = set()
    for story, care in stories.items():
        episode = care.episode(ProgramKind.TCM)
        assert episode is not None
        assert episode.tcm is not None
        tcm = episode.tcm
        complexities.add(tcm.complexity)
        assert episode.started_on == tcm.discharged_on
        assert timedelta(days=1) <= today - tcm.discharged_on <= timedelta(days=10)
        due = business_days_after(tcm.discharged_on, 2)
        calls = [e for e in care.entries if e.kind is ProgramKind.TCM]
        if story is TcmStory.CONTACT_DUE:
            assert tcm.first_contact_at is None
            assert not calls
            assert due >= today
            assert due == today if is_business_day(today) else due == _next_business_day(today)
        elif story is TcmStory.CONTACT_OVERDUE:
            assert tcm.first_contact_at is None
            assert due < today
            [tried] = calls  # one unanswered call: not a contact, not two attempts
            assert not tried.work.interactive
            assert tried.started_at.date() <= due
        else:
            assert tcm.first_contact_at is not None
            assert tcm.discharged_on < tcm.first_contact_at.date() <= due
            assert [e.work.interactive for e in calls] == [True, False]
            assert calls[0].started_at == tcm.first_contact_at
            assert tcm.med_reconciled_on == calls[1].started_at.date()
        if story is TcmStory.COMPLETE:
            assert tcm.complexity is Complexity.HIGH
            assert tcm.face_to_face_on is not None
            assert tcm.face_to_face_on - tcm.discharged_on <= timedelta(days=7)
            assert tcm.med_reconciled_on is not None
            assert tcm.med_reconciled_on <= tcm.face_to_face_on
        else:
            assert tcm.face_to_face_on is None
    assert complexities == set(Complexity)


def _next_business_day(day: date) -> date:
    return business_days_after(day, 1)
