"""Simulated pharmacy fills of a simulated cohort, as FHIR R4 ``MedicationDispense``.

Simulated patients and made-up fills only. Every patient gets a regimen by
pathway (:mod:`simulators.drugs`: only drugs that classify, named by text).

How a patient collects (:class:`FillPattern`): most refill 30- or 90-day
supplies on time, a few days late or early; some lapse, a little later at
every refill; some stop one class (CHF: the loop diuretic) partway through the
window. Tied to the cohort's scenarios: a CHF patient whose fluid gain is
simulated (the first always, later ones half of the time) runs out of the
loop diuretic 3-5 days before the weight starts to climb, and collects it
again after the episode. The long ground-truth cohorts
(:mod:`simulators.groundtruth`) have no medication story, so nothing is tied to them.

Everything is a pure function of the cohort: one ``numpy`` generator per
patient (regimen) and per prescription (fills), seeded from the cohort's seed
and the patient's index, so fills do not depend on how far ahead one looks.

>>> from datetime import UTC, datetime
>>> from simulators.cohort import build_cohort
>>> cohort = build_cohort(2, seed=3, end=datetime(2026, 3, 1, tzinfo=UTC), days=30)
>>> plan = draw_pharmacy(cohort)
>>> chf = plan.regimens[0]
>>> chf.pattern.value, [rx.drug.key for rx in chf.prescriptions]
('missed_diuretic', ['furosemide', 'lisinopril', 'metoprolol'])
>>> chf.patient.scenarios[0].onset.date().isoformat()
'2026-02-18'
>>> fills = list(patient_fills(chf, seed=cohort.seed, until=cohort.end.date()))
>>> [f.filled_on.isoformat() for f in fills if f.drug is FUROSEMIDE]  # 30 days: out on 15 Feb
['2026-01-16', '2026-03-01']
"""

from __future__ import annotations

import enum
import heapq
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import orjson

from simulators.cohort import Cohort
from simulators.drugs import FUROSEMIDE, TORSEMIDE, Drug, draw_drugs, stopped_drug
from simulators.models import Pathway, Scenario, ScenarioSpec, SimPatient
from simulators.provision import SIM_IDENTIFIER_SYSTEM

PHARMACY_SYSTEM = "urn:lastmile:sim:pharmacy"
UCUM = "http://unitsofmeasure.org"
#: Dispenses in one MQTT message (the hub's limit, contract section 2).
MAX_PER_MESSAGE = 500

_STREAM = 0x5048  # keeps the pharmacy's draws apart from any other use of the seed
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)


class FillPattern(enum.StrEnum):
    """How a patient collects their refills."""

    ADHERENT = "adherent"  # on time, a few days late or early
    LAPSING = "lapsing"  # a little later at every refill
    STOPS_CLASS = "stops_class"  # on time, but stops one class partway
    MISSED_DIURETIC = "missed_diuretic"  # runs out of the loop diuretic before a fluid gain


@dataclass(frozen=True, slots=True)
class Prescription:
    """One drug and how it is collected.

    The first fill is on ``starts``. No fill whose supply would begin on or
    after ``stops`` is collected (the supply runs out by then); the patient
    starts again on ``resumes``. ``lapse_days`` is added to the delay of each
    successive refill; a ``punctual`` patient is never late.
    """

    drug: Drug
    days_supply: int
    starts: date
    stops: date | None = None
    resumes: date | None = None
    lapse_days: float = 0.0
    punctual: bool = False


@dataclass(frozen=True, slots=True)
class Regimen:
    patient: SimPatient
    pattern: FillPattern
    prescriptions: tuple[Prescription, ...]


@dataclass(frozen=True, slots=True)
class SimFill:
    """One simulated fill; ``handed_at`` (UTC) is when it left the pharmacy."""

    identifier: str
    patient_value: str
    drug: Drug
    handed_at: datetime
    days_supply: int

    @property
    def filled_on(self) -> date:
        return self.handed_at.date()

    def resource(self) -> dict[str, Any]:
        """The fill as a FHIR R4 ``MedicationDispense``."""
        return {
            "resourceType": "MedicationDispense",
            "identifier": [{"system": PHARMACY_SYSTEM, "value": self.identifier}],
            "status": "completed",
            "medicationCodeableConcept": {"text": self.drug.text},
            "subject": {
                "identifier": {"system": SIM_IDENTIFIER_SYSTEM, "value": self.patient_value}
            },
            "quantity": {"value": self.days_supply * self.drug.per_day, "unit": self.drug.form},
            "daysSupply": {"value": self.days_supply, "unit": "d", "system": UCUM, "code": "d"},
            "whenHandedOver": self.filled_on.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FillBatch:
    """One MQTT message of the pharmacy feed: a JSON array of dispenses, sent at ``due``."""

    due: datetime
    fills: tuple[SimFill, ...]

    @property
    def payload(self) -> bytes:
        return orjson.dumps([f.resource() for f in self.fills])


@dataclass(frozen=True)
class CohortPharmacy:
    """The regimens of a cohort's patients, and the fills they collect."""

    cohort: Cohort
    regimens: tuple[Regimen, ...]

    def fills(self, *, until: date) -> Iterator[SimFill]:
        """Every fill dated up to ``until`` (included), in date order."""
        streams = [patient_fills(r, seed=self.cohort.seed, until=until) for r in self.regimens]
        return heapq.merge(*streams, key=lambda f: (f.handed_at, f.identifier))

    def batches(self, start: datetime, stop: datetime) -> Iterator[FillBatch]:
        """The feed's messages due in ``[start, stop)``, in time order.

        The feed sends, on the hour, what it handed over in the hour before;
        what was handed over before the cohort's window is sent when it starts.
        """
        due: dict[datetime, list[SimFill]] = {}
        for fill in self.fills(until=stop.date()):
            at = max(_next_hour(fill.handed_at), self.cohort.start)
            if start <= at < stop:
                due.setdefault(at, []).append(fill)
        for at in sorted(due):
            fills = due[at]
            for i in range(0, len(fills), MAX_PER_MESSAGE):
                yield FillBatch(at, tuple(fills[i : i + MAX_PER_MESSAGE]))


def draw_pharmacy(cohort: Cohort) -> CohortPharmacy:
    """Every patient's regimen and fill pattern."""
    regimens: list[Regimen] = []
    tied_yet = False
    for patient in cohort.patients:
        rng = _rng(cohort.seed, patient.index)
        coin = rng.random() < 0.5
        gain = patient.scenario(Scenario.FLUID_GAIN) if patient.pathway is Pathway.CHF else None
        tie = gain if gain is not None and (coin or not tied_yet) else None
        tied_yet = tied_yet or tie is not None
        regimens.append(_draw_regimen(cohort, patient, rng, tie=tie))
    return CohortPharmacy(cohort=cohort, regimens=tuple(regimens))


def patient_fills(regimen: Regimen, *, seed: int, until: date) -> Iterator[SimFill]:
    """One patient's fills dated up to ``until``, in date order."""
    streams = []
    for rx in regimen.prescriptions:
        rng = _rng(seed, regimen.patient.index, zlib.crc32(rx.drug.key.encode()))
        streams.append(_fills_of(regimen.patient, rx, rng, until))
    return heapq.merge(*streams, key=lambda f: (f.handed_at, f.identifier))


def _fills_of(
    patient: SimPatient, rx: Prescription, rng: np.random.Generator, until: date
) -> Iterator[SimFill]:
    on, run_out, refills, stops, resumes = rx.starts, rx.starts, 0, rx.stops, rx.resumes
    punctual, lapse, n = rx.punctual, rx.lapse_days, 0
    while on <= until:
        begin = max(on, run_out)
        if stops is not None and begin >= stops:
            if resumes is None:
                return
            on, run_out, refills, stops, resumes = resumes, resumes, 0, None, None
            punctual, lapse = False, 0.0
            continue
        minute = int(rng.integers(9 * 60, 19 * 60))
        handed = datetime.combine(on, time(), tzinfo=UTC) + timedelta(minutes=minute)
        n += 1
        yield SimFill(
            identifier=f"{patient.sim_id}-rx-{rx.drug.key}-{n:03d}",
            patient_value=patient.sim_id,
            drug=rx.drug,
            handed_at=handed,
            days_supply=rx.days_supply,
        )
        run_out = begin + timedelta(days=rx.days_supply)
        refills += 1
        delay = _delay(rng, punctual=punctual) + round(lapse * refills * rng.uniform(0.6, 1.4))
        on = max(on + _DAY, run_out + timedelta(days=delay))


def _delay(rng: np.random.Generator, *, punctual: bool) -> int:
    """Days after the supply runs out that a refill is collected (negative: early)."""
    if punctual:
        return -int(rng.integers(0, 3))
    if rng.random() < 0.25:
        return -int(rng.integers(1, 6))
    return int(np.clip(round(rng.normal(1.0, 1.5)), -2, 6))


def _draw_regimen(
    cohort: Cohort, patient: SimPatient, rng: np.random.Generator, *, tie: ScenarioSpec | None
) -> Regimen:
    """``tie``: the fluid gain the patient's missed loop diuretic comes before."""
    drugs = draw_drugs(patient.pathway, rng)
    pattern = _draw_pattern(rng) if tie is None else FillPattern.MISSED_DIURETIC
    # Lapses and stops show on monthly refills; some adherent patients collect 90 days.
    supply = 90 if pattern is FillPattern.ADHERENT and rng.random() < 0.35 else 30
    lapse = float(rng.uniform(2.5, 6.0)) if pattern is FillPattern.LAPSING else 0.0
    stopped = stopped_drug(patient.pathway, drugs) if pattern is FillPattern.STOPS_CLASS else None
    window = (cohort.end - cohort.start) / _DAY
    stop_on = (cohort.start + timedelta(days=window * rng.uniform(0.3, 0.8))).date()
    stop_on = max(stop_on, patient.discharge_date + _DAY)
    prescriptions = []
    for drug in drugs:
        starts = patient.discharge_date + timedelta(days=int(rng.integers(0, 3)))
        rx = Prescription(drug, supply, starts, lapse_days=lapse)
        if drug is stopped:
            rx = Prescription(drug, supply, starts, stops=stop_on)
        elif tie is not None and drug in (FUROSEMIDE, TORSEMIDE):
            rx = _missed_before(tie, patient, drug, rng)
        prescriptions.append(rx)
    return Regimen(patient=patient, pattern=pattern, prescriptions=tuple(prescriptions))


def _draw_pattern(rng: np.random.Generator) -> FillPattern:
    draw = rng.random()
    if draw < 0.2:
        return FillPattern.LAPSING
    return FillPattern.STOPS_CLASS if draw < 0.35 else FillPattern.ADHERENT


def _missed_before(
    gain: ScenarioSpec, patient: SimPatient, drug: Drug, rng: np.random.Generator
) -> Prescription:
    """The loop diuretic runs out 3-5 days before the fluid gain, resumes after it.

    Monthly refills, on time or early, from a first fill placed so that the
    supply runs out exactly then (a first fill before discharge is a supply at home).
    """
    supply = 30
    runs_out = gain.onset.date() - timedelta(days=int(rng.integers(3, 6)))
    fills = max(1, (runs_out - patient.discharge_date).days // supply)
    back = gain.onset + timedelta(days=gain.days + int(rng.integers(2, 5)))
    return Prescription(
        drug,
        supply,
        runs_out - timedelta(days=fills * supply),
        stops=runs_out,
        resumes=back.date(),
        punctual=True,
    )


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed % 2**64, _STREAM, *keys])


def _next_hour(at: datetime) -> datetime:
    floor = at.replace(minute=0, second=0, microsecond=0)
    return floor + _HOUR
