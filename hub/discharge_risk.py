"""Readmission-risk scores computed at enrollment: the LACE index and the HOSPITAL score.

**LACE** -- van Walraven C, Dhalla IA, Bell C, et al. Derivation and validation of an
index to predict early death or unplanned readmission after discharge from hospital to
the community. CMAJ 2010;182(6):551-557. doi:10.1503/cmaj.091117

* L, length of stay: <1 day 0, 1 day 1, 2 days 2, 3 days 3, 4-6 days 4, 7-13 days 5,
  14 or more 7 (the "modified LACE" of some later papers gives 6; this is the original);
* A, acute (emergent) admission: 3;
* C, Charlson comorbidity index: 0-3 scores itself, 4 or more scores 5;
* E, emergency department visits in the 6 months before admission, not counting the
  visit that led to this admission: one point each, at most 4.

Total 0-19; bands low 0-4, moderate 5-9, high >= 10 (the cut-off most studies use).

**HOSPITAL** -- Donze J, Aujesky D, Williams D, Schnipper JL. Potentially avoidable 30-day
hospital readmissions in medical patients: derivation and validation of a prediction
model. JAMA Intern Med 2013;173(8):632-638. doi:10.1001/jamainternmed.2013.3023;
validated in Donze JD et al., JAMA Intern Med 2016;176(4):496-502.

* H, haemoglobin at discharge < 12 g/dL: 1;  O, discharge from an oncology service: 2;
* S, sodium at discharge < 135 mmol/L: 1;  P, any ICD-coded procedure during the stay: 1;
* IT, index admission urgent or emergent: 1;
* A, hospital admissions in the previous 12 months: 0-1 0, 2-5 2, more than 5 5;
* L, length of stay >= 5 days: 2.

Total 0-13; risk classes low 0-4, intermediate 5-6, high >= 7.

Definitions used here. ``length_of_stay_days`` is whole days from admission date to
discharge date (a same-day discharge is 0, LACE's "<1 day"); both scores read it.
LACE's acuity and HOSPITAL's index admission type both separate urgent/emergent from
elective admissions, so HOSPITAL reads ``nonelective_admission`` when it is given and
``acute_admission`` otherwise. Give both when a site codes LACE acuity as "admitted via
the emergency department": an urgent direct admission is then acute False, nonelective
True. A score with any input missing is not computed (total None; the reason names the
missing inputs); nothing is imputed. No score is a calibrated probability.

>>> stay = DischargeInputs(length_of_stay_days=7, acute_admission=True, charlson_index=2,
...     ed_visits_6m=2, haemoglobin_g_dl=10.9, sodium_mmol_l=131.0, oncology_discharge=False,
...     procedure_during_stay=True, admissions_12m=3)
>>> discharge_risk(stay).explanation
'risk 0.62 (LACE 12/19; HOSPITAL 8/13)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from hub.exceptions import HubError

LACE_MAX = 19
HOSPITAL_MAX = 13
_Bands = tuple[tuple[int, str], ...]
#: (highest total in the band, band), lowest band first.
LACE_BANDS: _Bands = ((4, "low"), (9, "moderate"), (LACE_MAX, "high"))
HOSPITAL_BANDS: _Bands = ((4, "low"), (6, "intermediate"), (HOSPITAL_MAX, "high"))


class DischargeRiskError(HubError, ValueError):
    """Inputs that cannot be scored: a negative count, a non-finite lab, a bad fraction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeInputs:
    """What is known at enrollment about the index stay; None where it is not known."""

    length_of_stay_days: int | None = None
    acute_admission: bool | None = None
    charlson_index: int | None = None
    ed_visits_6m: int | None = None
    haemoglobin_g_dl: float | None = None
    sodium_mmol_l: float | None = None
    oncology_discharge: bool | None = None
    procedure_during_stay: bool | None = None
    #: Admissions in the 12 months before this one, not counting it.
    admissions_12m: int | None = None
    #: HOSPITAL's "index admission urgent/emergent"; None means "same as acute_admission".
    nonelective_admission: bool | None = None

    def __post_init__(self) -> None:
        for name in ("length_of_stay_days", "charlson_index", "ed_visits_6m", "admissions_12m"):
            if (count := getattr(self, name)) is not None and count < 0:
                raise DischargeRiskError(f"{name} must be >= 0, got {count}")
        for name in ("haemoglobin_g_dl", "sodium_mmol_l"):
            if (lab := getattr(self, name)) is not None and not (math.isfinite(lab) and lab > 0):
                raise DischargeRiskError(f"{name} must be a positive number, got {lab}")
        if (self.haemoglobin_g_dl or 0) > 30:
            raise DischargeRiskError(f"haemoglobin {self.haemoglobin_g_dl} g/dL: is it in g/L?")

    @property
    def index_admission_nonelective(self) -> bool | None:
        """HOSPITAL's index admission type: ``nonelective_admission``, else ``acute_admission``."""
        if self.nonelective_admission is not None:
            return self.nonelective_admission
        return self.acute_admission


@dataclass(frozen=True, slots=True)
class Component:
    """One term of a score: its letter, the input it read, that input's value, its points."""

    name: str
    input_name: str
    value: int | float | bool
    points: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskScore:
    """A score's total (None when not computable), band, components and worklist line."""

    score: str
    total: int | None
    maximum: int
    band: str | None
    components: Mapping[str, Component]
    missing: tuple[str, ...]
    explanation: str

    @property
    def normalised(self) -> float | None:
        """The total divided by the score's maximum, 0..1; None when not computable."""
        return None if self.total is None else self.total / self.maximum


@dataclass(frozen=True, slots=True, kw_only=True)
class LaceScore(RiskScore):
    """The LACE index of one stay."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HospitalScore(RiskScore):
    """The HOSPITAL score of one stay."""


_S = TypeVar("_S", "LaceScore", "HospitalScore")
_V = TypeVar("_V", bound=float)  # int and bool are accepted where float is


def _part(
    name: str,
    input_name: str,
    value: _V | None,
    points: Callable[[_V], int],
    text: Callable[[_V], str],
) -> Component | str:
    """One component, or the name of its input when that input is missing."""
    if value is None:
        return input_name
    return Component(name, input_name, value, points(value), text(value))


def _score(cls: type[_S], maximum: int, bands: _Bands, parts: Sequence[Component | str]) -> _S:
    """The score from its parts: total None, naming the missing inputs, if any is missing."""
    score = cls.__name__.removesuffix("Score").upper()
    missing = tuple(p for p in parts if isinstance(p, str))
    components = tuple(p for p in parts if isinstance(p, Component))
    total = None if missing else sum(c.points for c in components)
    scored = ", ".join(f"{c.text} ({c.points})" for c in components if c.points)
    return cls(
        score=score,
        total=total,
        maximum=maximum,
        band=None if total is None else next(band for top, band in bands if total <= top),
        components=MappingProxyType({} if missing else {c.name: c for c in components}),
        missing=missing,
        explanation=(
            f"{score} not computable: missing {', '.join(missing)}"
            if missing
            else f"{score} {total}: {scored or 'no scoring factors'}"
        ),
    )


def _lace_stay_points(days: int) -> int:
    if days <= 3:
        return days
    if days <= 6:
        return 4
    return 5 if days <= 13 else 7


def _admission_points(admissions: int) -> int:
    if admissions <= 1:
        return 0
    return 2 if admissions <= 5 else 5


def _charlson_points(charlson: int) -> int:
    return charlson if charlson <= 3 else 5


def _below(limit: float) -> Callable[[float], int]:
    return lambda value: 1 if value < limit else 0


def _yes(points: int) -> Callable[[bool], int]:
    return lambda flag: points if flag else 0


def _counted(noun: str, tail: str = "") -> Callable[[int], str]:
    return lambda n: f"{n} {noun}{'' if n == 1 else 's'}{tail}"


def _said(yes: str, no: str) -> Callable[[bool], str]:
    return lambda flag: yes if flag else no


def lace(inputs: DischargeInputs) -> LaceScore:
    """The LACE index (van Walraven 2010); total None if any of its four inputs is missing.

    >>> r = lace(DischargeInputs(length_of_stay_days=7, acute_admission=True,
    ...     charlson_index=2, ed_visits_6m=2))
    >>> r.total, r.band, r.components["L"].points
    (12, 'high', 5)
    >>> r.explanation
    'LACE 12: 7-day stay (5), emergent (3), Charlson 2 (2), 2 ED visits (2)'
    >>> lace(DischargeInputs(length_of_stay_days=3, acute_admission=True)).explanation
    'LACE not computable: missing charlson_index, ed_visits_6m'
    """
    i, stay = inputs, "{}-day stay".format
    parts = (
        _part("L", "length_of_stay_days", i.length_of_stay_days, _lace_stay_points, stay),
        _part("A", "acute_admission", i.acute_admission, _yes(3), _said("emergent", "elective")),
        _part("C", "charlson_index", i.charlson_index, _charlson_points, "Charlson {}".format),
        _part("E", "ed_visits_6m", i.ed_visits_6m, lambda n: min(n, 4), _counted("ED visit")),
    )
    return _score(LaceScore, LACE_MAX, LACE_BANDS, parts)


def hospital(inputs: DischargeInputs) -> HospitalScore:
    """The HOSPITAL score (Donze 2013); total None if any of its seven inputs is missing.

    >>> r = hospital(DischargeInputs(haemoglobin_g_dl=10.9, oncology_discharge=False,
    ...     sodium_mmol_l=131.0, procedure_during_stay=True, acute_admission=True,
    ...     admissions_12m=3, length_of_stay_days=7))
    >>> r.total, r.band
    (8, 'high')
    >>> r.explanation
    'HOSPITAL 8: Hb 10.9 g/dL (1), Na 131 mmol/L (1), procedure (1), urgent (1), \
3 admissions in 12 months (2), 7-day stay (2)'
    """
    i, stay = inputs, "{}-day stay".format
    parts = (
        _part("H", "haemoglobin_g_dl", i.haemoglobin_g_dl, _below(12), "Hb {:g} g/dL".format),
        _part(
            "O",
            "oncology_discharge",
            i.oncology_discharge,
            _yes(2),
            _said("oncology", "not oncology"),
        ),
        _part("S", "sodium_mmol_l", i.sodium_mmol_l, _below(135), "Na {:g} mmol/L".format),
        _part(
            "P",
            "procedure_during_stay",
            i.procedure_during_stay,
            _yes(1),
            _said("procedure", "no procedure"),
        ),
        _part(
            "IT",
            "nonelective_admission",
            i.index_admission_nonelective,
            _yes(1),
            _said("urgent", "elective"),
        ),
        _part(
            "A",
            "admissions_12m",
            i.admissions_12m,
            _admission_points,
            _counted("admission", " in 12 months"),
        ),
        _part(
            "L", "length_of_stay_days", i.length_of_stay_days, lambda d: 2 if d >= 5 else 0, stay
        ),
    )
    return _score(HospitalScore, HOSPITAL_MAX, HOSPITAL_BANDS, parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeRisk:
    """Both scores and their combination: ``risk`` in 0..1 for ranking, None if neither."""

    risk: float | None
    lace: LaceScore
    hospital: HospitalScore
    explanation: str

    @property
    def basis(self) -> tuple[str, ...]:
        """The scores ``risk`` rests on: both, one, or none."""
        return tuple(s.score for s in (self.lace, self.hospital) if s.total is not None)


def discharge_risk(inputs: DischargeInputs) -> DischargeRisk:
    """Both scores, and ``risk``: the mean of the available totals, each over its maximum.

    LACE/19 and HOSPITAL/13 put the two point sums on one 0..1 scale with equal weight;
    the mean keeps ``risk`` non-decreasing in every input and, when one score cannot be
    computed, rests on the other rather than on a guess (``basis`` says which). It is a
    ranking number, not a probability of readmission.

    >>> r = discharge_risk(DischargeInputs(length_of_stay_days=2, acute_admission=False,
    ...     charlson_index=1, ed_visits_6m=0))
    >>> round(r.risk, 4), r.basis   # 3/19
    (0.1579, ('LACE',))
    >>> r.explanation
    'risk 0.16 (LACE 3/19; HOSPITAL not computable: missing haemoglobin_g_dl, \
oncology_discharge, sodium_mmol_l, procedure_during_stay, admissions_12m)'
    """
    scores = (lace(inputs), hospital(inputs))
    fractions = [s.normalised for s in scores if s.normalised is not None]
    risk = sum(fractions) / len(fractions) if fractions else None
    notes = "; ".join(
        s.explanation if s.total is None else f"{s.score} {s.total}/{s.maximum}" for s in scores
    )
    head = "risk not computable" if risk is None else f"risk {risk:.2f}"
    return DischargeRisk(
        risk=risk, lace=scores[0], hospital=scores[1], explanation=f"{head} ({notes})"
    )


def high_risk_cutoff(risks: Sequence[float], *, top_fraction: float = 0.15) -> float:
    """The lowest risk still in the top ``top_fraction`` of ``risks``: flag ``risk >= cutoff``.

    With n risks, k = ceil(top_fraction * n) (at least 1) and the cutoff is the k-th
    largest. Ties at the cutoff are all flagged, so more than k may be: patients with the
    same risk are never split. ``top_fraction * n`` is rounded to 9 places before the
    ceiling so that float noise (0.07 * 100 = 7.000000000000001) does not add a patient.

    >>> high_risk_cutoff([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], top_fraction=0.2)
    0.9
    >>> high_risk_cutoff([0.9, 0.5, 0.5, 0.5, 0.1, 0.0], top_fraction=0.5)  # k=3; 4 flagged
    0.5
    >>> high_risk_cutoff([0.3, 0.7])  # ceil(0.3) = 1: just the highest
    0.7
    """
    if not 0 < top_fraction <= 1:
        raise DischargeRiskError(f"top_fraction must be in (0, 1], got {top_fraction}")
    if not risks:
        raise DischargeRiskError("no risks to take a cutoff of")
    if not all(math.isfinite(r) for r in risks):
        raise DischargeRiskError("risks must be finite numbers")
    k = max(1, math.ceil(round(top_fraction * len(risks), 9)))
    return sorted(risks, reverse=True)[k - 1]
