"""A simulated practice's care programmes for a simulated cohort: orders, consents and time.

Pure and deterministic: :func:`plan_care` is a function of the cohort (its
seed, its patients and the end of its window, which is the plan's "now").
For a cohort of n patients:

- RPM for most, ordered by one of the practice's three simulated
  physicians, whose NPIs pass the check digit (:func:`synthetic_npi`);
  consent, and the device set-up and education, on its first day. The
  first day is picked from the days the patient's readings fall on, so that
  the open 30-day period shows each case: established patients past the 16
  days with data 99454 needs, recent ones who can still reach them, and
  patients who skip days (about one in seven of the later patients measures
  sporadically, :mod:`simulators.cohort`) and no longer can.
- ``n // 10`` without an RPM order, and ``n // 10`` whose RPM waits for their
  consent (so no time is logged toward it).
- CCM for about a third, with two chronic conditions of their pathway.
- TCM for ``n // 5`` (at least one) discharged again in the last ten days,
  taking the stories of :class:`~simulators.care_models.TcmStory` in turn:
  the interactive contact due today, one overdue, a visit still ahead, all done.
- Simulated nurses' time over the window (:mod:`simulators.care_time`); this
  month's RPM at the patient's pace: 55 % on track, 30 % short, 15 % behind.

    >>> from datetime import UTC, datetime
    >>> from simulators.cohort import build_cohort
    >>> cohort = build_cohort(10, seed=3, end=datetime(2026, 3, 18, 16, tzinfo=UTC), days=30)
    >>> plan_care(cohort) == plan_care(cohort)
    True
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from billing.tcm import business_days_after, is_business_day
from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from programs.codes import npi_valid
from programs.models import ConsentMethod, Practitioner, Tcm
from simulators.care_models import (
    NURSES,
    CarePlan,
    DeviceOutlook,
    PatientCare,
    PlannedEntry,
    PlannedEpisode,
    TcmStory,
)
from simulators.care_outlook import device_forecast, device_outlook
from simulators.care_time import (
    contact_call,
    draw_pace,
    episode_entries,
    reconciliation,
    unanswered_call,
)
from simulators.cohort import Cohort
from simulators.models import Pathway, Scenario, SimPatient

#: Pairs of chronic conditions per pathway, as ICD-10-CM codes: I50.22 chronic systolic
#: and I50.32 chronic diastolic heart failure, I11.0 hypertensive heart disease with heart
#: failure, J44.9 COPD, I10 essential hypertension, E11.9 type 2 diabetes without
#: complications, E78.5 hyperlipidaemia, I48.91 atrial fibrillation, F17.210 nicotine
#: dependence (cigarettes). Hypertension with heart failure is I11.0 with the I50 code,
#: not I10 (ICD-10-CM Official Guidelines, section I.C.9.a.1, presume the link).
CONDITIONS: Mapping[Pathway, tuple[tuple[str, str], ...]] = {
    Pathway.CHF: (("I50.22", "E11.9"), ("I50.32", "I48.91"), ("I11.0", "I50.22")),
    Pathway.COPD: (("J44.9", "I10"), ("J44.9", "F17.210")),
    Pathway.HTN: (("I10", "E11.9"), ("I10", "E78.5")),
    Pathway.DEFAULT: (("E11.9", "I10"), ("I48.91", "I10")),
}
PHYSICIANS = ("Dr. Avery Lind", "Dr. Rowan Okafor", "Dr. Sam Whitfield")
#: How consent was taken, and how often.
CONSENT_METHODS = {
    ConsentMethod.VERBAL: 0.7,
    ConsentMethod.WRITTEN: 0.2,
    ConsentMethod.ELECTRONIC: 0.1,
}
CCM_RATE = 1 / 3
#: Of the patients measuring as usual, the share whose RPM started long enough ago for 16 days.
ESTABLISHED_RATE = 0.65
TCM_STORIES = tuple(TcmStory)
_DAY = timedelta(days=1)
#: An RPM period's first day is at most this long before today.
_PERIOD = timedelta(days=29)


def synthetic_npi(rng: random.Random) -> str:
    """A made-up NPI that passes the check digit: ``1``, eight drawn digits, the check digit.

    >>> npi = synthetic_npi(random.Random(0))
    >>> len(npi), npi[0], npi_valid(npi)
    (10, '1', True)
    """
    stem = "1" + "".join(str(rng.randrange(10)) for _ in range(8))
    return next(stem + digit for digit in "0123456789" if npi_valid(stem + digit))


def plan_care(cohort: Cohort) -> CarePlan:
    """The cohort's programmes and logged time at the end of its window."""
    rng = random.Random(f"{cohort.seed}/care")
    practitioners = tuple(
        Practitioner(f"{name} (simulated)", synthetic_npi(rng)) for name in PHYSICIANS
    )
    n = len(cohort.patients)
    order = list(range(n))
    rng.shuffle(order)
    n_tcm = max(1, n // 5)
    stories = {i: TCM_STORIES[k % len(TCM_STORIES)] for k, i in enumerate(order[:n_tcm])}
    others = order[n_tcm:]
    without_rpm = set(others[: n // 10])
    awaiting = set(others[n // 10 : 2 * (n // 10)])
    patients = tuple(
        _patient(
            cohort,
            p,
            practitioners,
            rpm=None if p.index in without_rpm else p.index not in awaiting,
            story=stories.get(p.index),
        )
        for p in cohort.patients
    )
    return CarePlan(now=cohort.end, practitioners=practitioners, patients=patients)


def _patient(
    cohort: Cohort,
    patient: SimPatient,
    practitioners: tuple[Practitioner, ...],
    *,
    rpm: bool | None,
    story: TcmStory | None,
) -> PatientCare:
    """``rpm``: None for no order, False for an order awaiting consent, True for consented."""
    now = cohort.end
    today = now.date()
    earliest = min(today, cohort.start.date() + _DAY)
    rng = random.Random(f"{cohort.seed}/care/{patient.index}")
    conditions = rng.choice(CONDITIONS[patient.pathway])
    ordering = rng.choice(practitioners)
    method = rng.choices(tuple(CONSENT_METHODS), tuple(CONSENT_METHODS.values()))[0]
    nurse = patient.index % NURSES
    pace, ccm_pace = draw_pace(rng), draw_pace(rng)
    ccm_start = max(earliest, today - timedelta(days=rng.randint(8, 29)))
    ccm = rng.random() < CCM_RATE
    aim = _aim(patient, rng)
    episodes: list[PlannedEpisode] = []
    entries: list[PlannedEntry] = []
    device = None
    if rpm is False:
        start = max(earliest, today - timedelta(days=rng.randint(0, 2)))
        episodes.append(PlannedEpisode(ProgramKind.RPM, start, ordering, conditions))
    elif rpm:
        measured = cohort.measured_days(patient, max(earliest, today - _PERIOD))
        start, device = _rpm_start(measured, aim, rng, today=today, earliest=earliest)
        episodes.append(
            PlannedEpisode(
                ProgramKind.RPM,
                start,
                ordering,
                conditions,
                consent_on=start,
                consent_method=method,
                setup_on=start,
            )
        )
        time_rng = random.Random(f"{cohort.seed}/care/{patient.index}/RPM")
        entries += episode_entries(
            ProgramKind.RPM, start, now=now, pace=pace, nurse=nurse, rng=time_rng
        )
    if ccm:
        episodes.append(
            PlannedEpisode(
                ProgramKind.CCM,
                ccm_start,
                ordering,
                conditions,
                consent_on=ccm_start,
                consent_method=method,
            )
        )
        time_rng = random.Random(f"{cohort.seed}/care/{patient.index}/CCM")
        entries += episode_entries(
            ProgramKind.CCM, ccm_start, now=now, pace=ccm_pace, nurse=nurse, rng=time_rng
        )
    if story is not None:
        tcm_rng = random.Random(f"{cohort.seed}/care/{patient.index}/TCM")
        tcm, calls = _tcm(story, now=now, rng=tcm_rng, nurse=nurse)
        episodes.append(
            PlannedEpisode(ProgramKind.TCM, tcm.discharged_on, ordering, conditions, tcm=tcm)
        )
        entries += calls
    return PatientCare(
        gateway_key=patient.gateway_key,
        nurse=nurse,
        episodes=tuple(episodes),
        entries=tuple(sorted(entries, key=lambda e: (e.started_at, e.kind))),
        device=device,
        pace=pace if rpm else None,
        tcm=story,
    )


def _aim(patient: SimPatient, rng: random.Random) -> DeviceOutlook:
    """What the RPM period is meant to show: lost for those who skip days or stopped."""
    draw = rng.random()
    if any(patient.scenario(k) for k in (Scenario.SPORADIC, Scenario.NON_ADHERENT)):
        return DeviceOutlook.LOST
    return DeviceOutlook.REACHED if draw < ESTABLISHED_RATE else DeviceOutlook.REACHABLE


def _rpm_start(
    measured: frozenset[date],
    aim: DeviceOutlook,
    rng: random.Random,
    *,
    today: date,
    earliest: date,
) -> tuple[date, DeviceOutlook]:
    """A first day 5-13 days ago (recent) or 20-28 (established), the first of those tried
    whose period shows ``aim``; else the first tried, with what it shows."""
    if aim is DeviceOutlook.REACHABLE:
        offsets = [rng.randint(5, 13)]
    else:
        offsets = list(range(20, 29))
        rng.shuffle(offsets)
    tried: list[tuple[date, DeviceOutlook]] = []
    for offset in offsets:
        start = max(earliest, today - timedelta(days=offset))
        shows = device_outlook(device_forecast(measured, start=start, today=today))
        if shows is aim:
            return start, shows
        tried.append((start, shows))
    return tried[0]


def _tcm(
    story: TcmStory, *, now: datetime, rng: random.Random, nurse: int
) -> tuple[Tcm, list[PlannedEntry]]:
    """A discharge in the last ten days that tells ``story`` at ``now``, and its calls."""
    today = now.date()
    if story is TcmStory.CONTACT_DUE:
        # The earliest discharge whose contact deadline has not passed: due today on a
        # business day (else on the next one).
        discharged = today - _DAY
        while business_days_after(discharged - _DAY, 2) >= today:
            discharged -= _DAY
        return Tcm(discharged, DischargeSetting.INPATIENT, Complexity.HIGH), []
    if story is TcmStory.CONTACT_OVERDUE:
        discharged = today - _DAY
        while business_days_after(discharged, 2) >= today:
            discharged -= _DAY
        discharged -= timedelta(days=rng.randint(0, 2))
        tried = _at(business_days_after(discharged, 1), rng)
        tcm = Tcm(discharged, DischargeSetting.OBSERVATION, Complexity.MODERATE)
        return tcm, [unanswered_call(tried, nurse=nurse)]
    complete = story is TcmStory.COMPLETE
    discharged = today - timedelta(days=rng.randint(8, 10) if complete else rng.randint(5, 8))
    call = contact_call(_at(business_days_after(discharged, 1), rng), rng, nurse=nurse)
    meds_at = call.started_at + timedelta(minutes=call.minutes + rng.randint(30, 120))
    meds = reconciliation(meds_at, rng, nurse=nurse)
    visit = None
    if complete:
        days = [discharged + timedelta(days=d) for d in range(3, 8)]
        visit = rng.choice([d for d in days if is_business_day(d)] or days)
    setting = DischargeSetting.INPATIENT if complete else DischargeSetting.SKILLED_NURSING
    tcm = Tcm(
        discharged_on=discharged,
        setting=setting,
        complexity=Complexity.HIGH if complete else Complexity.MODERATE,
        med_reconciled_on=meds_at.date(),
        face_to_face_on=visit,
        first_contact_at=call.started_at,
    )
    return tcm, [call, meds]


def _at(day: date, rng: random.Random) -> datetime:
    """A working-hours minute of ``day`` (09:00 to 15:00 UTC)."""
    return datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 360))
