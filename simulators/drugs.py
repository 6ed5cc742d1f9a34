"""The drugs of simulated regimens, by pathway (simulated patients only).

Only ingredients of ``hub/data/drug_classes.csv``, so that every
medication classifies (:func:`hub.medications.classify`); each is named
by text, as RxNorm names its clinical drugs, never by an invented code:

- CHF: a loop diuretic, a RAS antagonist (an ACE inhibitor, an ARB or
  sacubitril/valsartan) and a beta-blocker; often spironolactone, an SGLT2
  inhibitor, a statin;
- HTN: a RAS antagonist and a thiazide (sometimes one combination tablet),
  sometimes a beta-blocker or a statin (no amlodipine: calcium-channel
  blockers are not in the class file);
- COPD and default: a statin, sometimes a RAS antagonist (the class file has
  no inhalers, so COPD's own drugs are not simulated);
- any pathway: sometimes type 2 diabetes (metformin, a gliptin, a sulfonylurea).

>>> sorted(classify(ENTRESTO.text).classes)
['ras_antagonists']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hub.medications import classify
from simulators.models import Pathway

#: The classes every regimen of a pathway has.
PATHWAY_CLASSES: Mapping[Pathway, frozenset[str]] = {
    Pathway.CHF: frozenset({"loop_diuretics", "ras_antagonists", "beta_blockers"}),
    Pathway.HTN: frozenset({"ras_antagonists", "thiazide_diuretics"}),
    Pathway.COPD: frozenset({"statins"}),
    Pathway.DEFAULT: frozenset({"statins"}),
}
#: The class a patient who stops one stops, by preference.
_STOPS: Mapping[Pathway, tuple[str, ...]] = {
    Pathway.CHF: ("loop_diuretics",),
    Pathway.HTN: ("thiazide_diuretics", "statins"),
    Pathway.COPD: ("statins",),
    Pathway.DEFAULT: ("statins",),
}


@dataclass(frozen=True, slots=True)
class Drug:
    """A medication by name (``key`` is unique within a regimen), taken ``per_day`` times."""

    key: str
    text: str
    per_day: int = 1
    form: str = "tablet"


def _d(key: str, text: str, per_day: int = 1, form: str = "tablet") -> Drug:
    return Drug(key, text, per_day, form)


FUROSEMIDE = _d("furosemide", "Furosemide 40 MG Oral Tablet")
TORSEMIDE = _d("torsemide", "Torsemide 20 MG Oral Tablet")
LISINOPRIL = _d("lisinopril", "Lisinopril 10 MG Oral Tablet")
LOSARTAN = _d("losartan", "Losartan Potassium 50 MG Oral Tablet")
ENTRESTO = _d("sacubitril-valsartan", "Sacubitril 49 MG / Valsartan 51 MG Oral Tablet", 2)
CARVEDILOL = _d("carvedilol", "Carvedilol 12.5 MG Oral Tablet", 2)
METOPROLOL = _d("metoprolol", "24 HR Metoprolol Succinate 50 MG Extended Release Oral Tablet")
SPIRONOLACTONE = _d("spironolactone", "Spironolactone 25 MG Oral Tablet")
EMPAGLIFLOZIN = _d("empagliflozin", "Empagliflozin 10 MG Oral Tablet")
DAPAGLIFLOZIN = _d("dapagliflozin", "Dapagliflozin 10 MG Oral Tablet")
HTN_RAS = (
    _d("lisinopril", "Lisinopril 20 MG Oral Tablet"),
    _d("losartan", "Losartan Potassium 100 MG Oral Tablet"),
    _d("olmesartan", "Olmesartan Medoxomil 20 MG Oral Tablet"),
    _d("ramipril", "Ramipril 10 MG Oral Capsule", form="capsule"),
)
THIAZIDES = (
    _d("hydrochlorothiazide", "Hydrochlorothiazide 25 MG Oral Tablet"),
    _d("chlorthalidone", "Chlorthalidone 25 MG Oral Tablet"),
)
COMBINATIONS = (
    _d("lisinopril-hctz", "Lisinopril 20 MG / Hydrochlorothiazide 12.5 MG Oral Tablet"),
    _d("losartan-hctz", "Losartan Potassium 100 MG / Hydrochlorothiazide 25 MG Oral Tablet"),
)
ATENOLOL = _d("atenolol", "Atenolol 50 MG Oral Tablet")
STATINS = (
    _d("atorvastatin", "Atorvastatin 40 MG Oral Tablet"),
    _d("rosuvastatin", "Rosuvastatin 20 MG Oral Tablet"),
    _d("simvastatin", "Simvastatin 40 MG Oral Tablet"),
)
METFORMIN = _d("metformin", "Metformin Hydrochloride 1000 MG Oral Tablet", 2)
SECOND_LINE = (
    _d("sitagliptin", "Sitagliptin 100 MG Oral Tablet"),
    _d("glipizide", "Glipizide 5 MG Oral Tablet"),
)


def draw_drugs(pathway: Pathway, rng: np.random.Generator) -> list[Drug]:
    """A regimen for ``pathway``: at least :data:`PATHWAY_CLASSES`, each drug once."""
    drugs: list[Drug] = []
    diabetes = 0.3
    if pathway is Pathway.CHF:
        drugs.append(FUROSEMIDE if rng.random() < 0.75 else TORSEMIDE)
        drugs.append(_pick(rng, (LISINOPRIL, LOSARTAN, ENTRESTO), (0.35, 0.3, 0.35)))
        drugs.append(CARVEDILOL if rng.random() < 0.5 else METOPROLOL)
        drugs.extend([SPIRONOLACTONE] if rng.random() < 0.55 else [])
        drugs.extend([_pick(rng, (EMPAGLIFLOZIN, DAPAGLIFLOZIN))] if rng.random() < 0.5 else [])
        drugs.extend([_pick(rng, STATINS)] if rng.random() < 0.5 else [])
    elif pathway is Pathway.HTN:
        if rng.random() < 0.3:
            drugs.append(_pick(rng, COMBINATIONS))
        else:
            drugs.extend([_pick(rng, HTN_RAS), _pick(rng, THIAZIDES)])
        drugs.extend([ATENOLOL] if rng.random() < 0.15 else [])
        drugs.extend([_pick(rng, STATINS)] if rng.random() < 0.4 else [])
        diabetes = 0.25
    else:
        drugs.append(_pick(rng, STATINS))
        drugs.extend([_pick(rng, HTN_RAS)] if rng.random() < 0.35 else [])
        diabetes = 0.15 if pathway is Pathway.COPD else 0.25
    if rng.random() < diabetes:
        drugs.append(METFORMIN)
        drugs.extend([_pick(rng, SECOND_LINE)] if rng.random() < 0.3 else [])
    return drugs


def _pick(
    rng: np.random.Generator, drugs: tuple[Drug, ...], p: tuple[float, ...] | None = None
) -> Drug:
    return drugs[int(rng.choice(len(drugs), p=p))]


def stopped_drug(pathway: Pathway, drugs: list[Drug]) -> Drug:
    """The drug a patient who stops one class stops: a single-class drug, by preference."""
    for wanted in _STOPS[pathway]:
        for drug in drugs:
            if classify(drug.text).classes == {wanted}:
                return drug
    return drugs[-1]
