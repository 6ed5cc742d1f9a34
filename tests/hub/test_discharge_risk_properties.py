"""Refused inputs, the cutoff for the top 15 %, and properties of both scores (hypothesis).

Hand-worked patients are in test_discharge_risk.py; every patient here is made up.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.discharge_risk import (
    HOSPITAL_MAX,
    LACE_MAX,
    DischargeInputs,
    DischargeRisk,
    DischargeRiskError,
    discharge_risk,
    high_risk_cutoff,
)
from tests.hub.test_discharge_risk import HOSPITAL_FIELDS, LACE_FIELDS

# --- invalid inputs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"length_of_stay_days": -1},
        {"charlson_index": -1},
        {"ed_visits_6m": -2},
        {"admissions_12m": -1},
        {"sodium_mmol_l": math.nan},
        {"sodium_mmol_l": math.inf},
        {"haemoglobin_g_dl": 0.0},
        {"haemoglobin_g_dl": -3.0},
    ],
)
def test_impossible_inputs_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(DischargeRiskError):
        DischargeInputs(**bad)


def test_haemoglobin_in_g_per_litre_is_refused_not_scored_as_normal() -> None:
    with pytest.raises(ValueError, match="g/L"):
        DischargeInputs(haemoglobin_g_dl=109.0)


# --- high_risk_cutoff -------------------------------------------------------------------


def test_cutoff_for_the_top_15_percent_of_20_patients_is_the_third_highest() -> None:
    risks = [n / 20 for n in range(1, 21)]  # 0.05 .. 1.00; ceil(0.15 * 20) = 3
    assert high_risk_cutoff(risks) == 18 / 20
    assert sum(r >= high_risk_cutoff(risks) for r in risks) == 3


def test_ties_at_the_cutoff_are_all_flagged() -> None:
    # 20 patients, k = 3, but the 2nd to 5th share 0.7: all four go with the first.
    risks = [0.9, 0.7, 0.7, 0.7, 0.7] + [0.1] * 15
    cutoff = high_risk_cutoff(risks)
    assert cutoff == 0.7
    assert sum(r >= cutoff for r in risks) == 5


def test_float_noise_in_the_fraction_does_not_add_a_patient() -> None:
    # 0.07 * 100 is 7.000000000000001 in floats; the top 7% of 100 is still 7 patients.
    risks = [n / 100 for n in range(100)]
    assert high_risk_cutoff(risks, top_fraction=0.07) == 93 / 100


def test_cutoff_edges() -> None:
    assert high_risk_cutoff([0.4]) == 0.4
    assert high_risk_cutoff([0.2, 0.9, 0.5], top_fraction=1.0) == 0.2


@pytest.mark.parametrize(
    ("risks", "fraction"),
    [([], 0.15), ([0.5], 0.0), ([0.5], -0.1), ([0.5], 1.5), ([0.5, math.nan], 0.15)],
)
def test_cutoff_refuses_bad_arguments(risks: list[float], fraction: float) -> None:
    with pytest.raises(DischargeRiskError):
        high_risk_cutoff(risks, top_fraction=fraction)


@given(
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=200),
    st.floats(min_value=0.01, max_value=1),
)
def test_cutoff_is_the_kth_largest(risks: list[float], fraction: float) -> None:
    k = max(1, math.ceil(round(fraction * len(risks), 9)))
    cutoff = high_risk_cutoff(risks, top_fraction=fraction)
    assert cutoff in risks
    assert sum(r >= cutoff for r in risks) >= k
    assert sum(r > cutoff for r in risks) < k


# --- properties -------------------------------------------------------------------------


def computed(r: DischargeRisk) -> tuple[int, int, float]:
    """LACE total, HOSPITAL total and risk of complete inputs (all three known)."""
    assert r.lace.total is not None
    assert r.hospital.total is not None
    assert r.risk is not None
    return r.lace.total, r.hospital.total, r.risk


complete_inputs = st.builds(
    DischargeInputs,
    length_of_stay_days=st.integers(0, 60),
    acute_admission=st.booleans(),
    charlson_index=st.integers(0, 15),
    ed_visits_6m=st.integers(0, 20),
    haemoglobin_g_dl=st.floats(min_value=4.0, max_value=20.0),
    sodium_mmol_l=st.floats(min_value=110.0, max_value=160.0),
    oncology_discharge=st.booleans(),
    procedure_during_stay=st.booleans(),
    admissions_12m=st.integers(0, 20),
    nonelective_admission=st.none() | st.booleans(),
)
COUNTS = ("length_of_stay_days", "charlson_index", "ed_visits_6m", "admissions_12m")
FLAGS = ("acute_admission", "oncology_discharge", "procedure_during_stay", "nonelective_admission")
LABS = {"haemoglobin_g_dl": 4.0, "sodium_mmol_l": 110.0}  # worse is lower, down to this


@given(complete_inputs)
def test_totals_stay_in_range_and_match_their_components(inputs: DischargeInputs) -> None:
    r = discharge_risk(inputs)
    lace_total, hospital_total, risk = computed(r)
    assert 0 <= lace_total <= LACE_MAX
    assert 0 <= hospital_total <= HOSPITAL_MAX
    assert 0.0 <= risk <= 1.0
    for score in (r.lace, r.hospital):
        assert score.total == sum(c.points for c in score.components.values())
        assert score.explanation.startswith(f"{score.score} {score.total}: ")


@given(complete_inputs, st.sampled_from(COUNTS + FLAGS + tuple(LABS)), st.data())
def test_scores_never_fall_when_an_input_gets_worse(
    inputs: DischargeInputs, field: str, data: st.DataObject
) -> None:
    old = getattr(inputs, field)
    if field in COUNTS:
        new: Any = old + data.draw(st.integers(0, 30))
    elif field in FLAGS:
        new = True
    else:
        new = data.draw(st.floats(min_value=LABS[field], max_value=old))
    worse = replace(inputs, **{field: new})
    before, after = computed(discharge_risk(inputs)), computed(discharge_risk(worse))
    assert all(a >= b for a, b in zip(after, before, strict=True)), (before, after)


@given(complete_inputs, st.sets(st.sampled_from(COUNTS + FLAGS[:3] + tuple(LABS)), min_size=1))
def test_a_missing_input_is_reported_never_guessed(
    inputs: DischargeInputs, blanked: set[str]
) -> None:
    # nonelective_admission stays None so that a missing acute_admission leaves HOSPITAL's
    # index admission type unknown too.
    gaps = replace(inputs, nonelective_admission=None, **dict.fromkeys(blanked))
    lace_gaps = tuple(f for f in LACE_FIELDS if f in blanked)
    hospital_gaps = tuple(
        f
        for f in HOSPITAL_FIELDS
        if f in blanked or (f == "nonelective_admission" and "acute_admission" in blanked)
    )
    r = discharge_risk(gaps)
    assert r.lace.missing == lace_gaps
    assert (r.lace.total is None) == bool(lace_gaps)
    assert r.hospital.missing == hospital_gaps
    assert (r.hospital.total is None) == bool(hospital_gaps)
    assert (r.risk is None) == bool(lace_gaps and hospital_gaps)
