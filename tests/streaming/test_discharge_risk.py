"""LACE and HOSPITAL at enrollment: hand-worked patients, missing inputs, then properties.

Every patient here is made up; the arithmetic is written out next to each case.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streaming.discharge_risk import (
    HOSPITAL_MAX,
    LACE_MAX,
    DischargeInputs,
    DischargeRisk,
    DischargeRiskError,
    discharge_risk,
    high_risk_cutoff,
    hospital,
    lace,
)

LACE_FIELDS = ("length_of_stay_days", "acute_admission", "charlson_index", "ed_visits_6m")
HOSPITAL_FIELDS = (
    "haemoglobin_g_dl",
    "oncology_discharge",
    "sodium_mmol_l",
    "procedure_during_stay",
    "nonelective_admission",
    "admissions_12m",
    "length_of_stay_days",
)


def lace_inputs(days: int, acute: bool, charlson: int, ed: int) -> DischargeInputs:
    return DischargeInputs(
        length_of_stay_days=days, acute_admission=acute, charlson_index=charlson, ed_visits_6m=ed
    )


def hospital_inputs(
    *,
    hb: float,
    oncology: bool,
    sodium: float,
    procedure: bool,
    urgent: bool,
    admissions: int,
    days: int,
) -> DischargeInputs:
    return DischargeInputs(
        haemoglobin_g_dl=hb,
        oncology_discharge=oncology,
        sodium_mmol_l=sodium,
        procedure_during_stay=procedure,
        nonelective_admission=urgent,
        admissions_12m=admissions,
        length_of_stay_days=days,
    )


# --- LACE -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "points"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (6, 4), (7, 5), (13, 5), (14, 7), (60, 7)],
)
def test_lace_length_of_stay_points(days: int, points: int) -> None:
    r = lace(lace_inputs(days, False, 0, 0))
    assert r.components["L"].points == points
    assert r.total == points


@pytest.mark.parametrize(("charlson", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (12, 5)])
def test_lace_charlson_points_jump_from_3_to_5(charlson: int, points: int) -> None:
    assert lace(lace_inputs(0, False, charlson, 0)).total == points


@pytest.mark.parametrize(("visits", "points"), [(0, 0), (1, 1), (3, 3), (4, 4), (9, 4)])
def test_lace_ed_visits_are_capped_at_4(visits: int, points: int) -> None:
    assert lace(lace_inputs(0, False, 0, visits)).total == points


def test_lace_acute_admission_scores_3() -> None:
    assert lace(lace_inputs(0, True, 0, 0)).components["A"].points == 3


@pytest.mark.parametrize(
    ("inputs", "total", "band", "explanation"),
    [
        # 0-day stay (0), elective (0), Charlson 0 (0), no ED visits (0) = 0
        (lace_inputs(0, False, 0, 0), 0, "low", "LACE 0: no scoring factors"),
        # 4-day stay (4) = 4: the top of "low"
        (lace_inputs(4, False, 0, 0), 4, "low", "LACE 4: 4-day stay (4)"),
        # 7-day stay (5) = 5: the bottom of "moderate"
        (lace_inputs(7, False, 0, 0), 5, "moderate", "LACE 5: 7-day stay (5)"),
        # 4-day stay (4) + emergent (3) + Charlson 1 (1) + 1 ED visit (1) = 9: top of "moderate"
        (
            lace_inputs(4, True, 1, 1),
            9,
            "moderate",
            "LACE 9: 4-day stay (4), emergent (3), Charlson 1 (1), 1 ED visit (1)",
        ),
        # 4-day stay (4) + emergent (3) + Charlson 2 (2) + 1 ED visit (1) = 10: "high"
        (
            lace_inputs(4, True, 2, 1),
            10,
            "high",
            "LACE 10: 4-day stay (4), emergent (3), Charlson 2 (2), 1 ED visit (1)",
        ),
        # 30-day stay (7) + emergent (3) + Charlson 7 (5) + 6 ED visits (4) = 19, the maximum
        (
            lace_inputs(30, True, 7, 6),
            19,
            "high",
            "LACE 19: 30-day stay (7), emergent (3), Charlson 7 (5), 6 ED visits (4)",
        ),
    ],
)
def test_lace_band_boundaries(
    inputs: DischargeInputs, total: int, band: str, explanation: str
) -> None:
    r = lace(inputs)
    assert (r.total, r.band, r.explanation) == (total, band, explanation)
    assert r.missing == ()


def test_lace_worklist_line_and_components() -> None:
    # 7-day stay (5) + emergent (3) + Charlson 2 (2) + 2 ED visits (2) = 12
    r = lace(lace_inputs(7, True, 2, 2))
    assert r.explanation == "LACE 12: 7-day stay (5), emergent (3), Charlson 2 (2), 2 ED visits (2)"
    assert {k: (c.value, c.points) for k, c in r.components.items()} == {
        "L": (7, 5),
        "A": (True, 3),
        "C": (2, 2),
        "E": (2, 2),
    }
    assert r.components["E"].input_name == "ed_visits_6m"
    assert r.normalised == pytest.approx(12 / 19)
    with pytest.raises(TypeError):
        r.components["L"] = r.components["A"]  # type: ignore[index]


# --- HOSPITAL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "total", "band"),
    [
        # Hb 12.0 (0: not below 12) + Na 135 (0: not below 135) + procedure (1) + urgent (1)
        # + 2 admissions (2) + 4-day stay (0) = 4: the top of "low"
        (
            hospital_inputs(
                hb=12.0,
                oncology=False,
                sodium=135.0,
                procedure=True,
                urgent=True,
                admissions=2,
                days=4,
            ),
            4,
            "low",
        ),
        # Hb 11.9 (1) + procedure (1) + urgent (1) + 1 admission (0) + 5-day stay (2) = 5
        (
            hospital_inputs(
                hb=11.9,
                oncology=False,
                sodium=138.0,
                procedure=True,
                urgent=True,
                admissions=1,
                days=5,
            ),
            5,
            "intermediate",
        ),
        # oncology (2) + elective (0) + 2 admissions (2) + 6-day stay (2) = 6
        (
            hospital_inputs(
                hb=13.5,
                oncology=True,
                sodium=140.0,
                procedure=False,
                urgent=False,
                admissions=2,
                days=6,
            ),
            6,
            "intermediate",
        ),
        # 6 admissions (5: more than 5) + 5-day stay (2) = 7: the bottom of "high"
        (
            hospital_inputs(
                hb=14.0,
                oncology=False,
                sodium=140.0,
                procedure=False,
                urgent=False,
                admissions=6,
                days=5,
            ),
            7,
            "high",
        ),
        # Hb 8.2 (1) + oncology (2) + Na 128 (1) + procedure (1) + urgent (1)
        # + 8 admissions (5) + 12-day stay (2) = 13, the maximum
        (
            hospital_inputs(
                hb=8.2,
                oncology=True,
                sodium=128.0,
                procedure=True,
                urgent=True,
                admissions=8,
                days=12,
            ),
            13,
            "high",
        ),
    ],
)
def test_hospital_risk_classes(inputs: DischargeInputs, total: int, band: str) -> None:
    r = hospital(inputs)
    assert (r.total, r.band) == (total, band)
    assert sum(c.points for c in r.components.values()) == total


def test_hospital_worklist_line_names_the_scoring_components() -> None:
    r = hospital(
        hospital_inputs(
            hb=12.0, oncology=False, sodium=135.0, procedure=True, urgent=True, admissions=2, days=4
        )
    )
    assert r.explanation == "HOSPITAL 4: procedure (1), urgent (1), 2 admissions in 12 months (2)"
    assert (r.components["H"].value, r.components["H"].points) == (12.0, 0)


@pytest.mark.parametrize(
    ("admissions", "points"), [(0, 0), (1, 0), (2, 2), (5, 2), (6, 5), (20, 5)]
)
def test_hospital_previous_admissions_bands(admissions: int, points: int) -> None:
    r = hospital(
        hospital_inputs(
            hb=14.0,
            oncology=False,
            sodium=140.0,
            procedure=False,
            urgent=False,
            admissions=admissions,
            days=1,
        )
    )
    assert r.components["A"].points == r.total == points


@pytest.mark.parametrize(
    ("change", "letter", "points"),
    [
        ({"hb": 11.99}, "H", 1),
        ({"hb": 12.0}, "H", 0),
        ({"sodium": 134.9}, "S", 1),
        ({"sodium": 135.0}, "S", 0),
        ({"days": 4}, "L", 0),
        ({"days": 5}, "L", 2),
        ({"oncology": True}, "O", 2),
    ],
)
def test_hospital_thresholds(change: dict[str, Any], letter: str, points: int) -> None:
    base: dict[str, Any] = {
        "hb": 14.0,
        "oncology": False,
        "sodium": 140.0,
        "procedure": False,
        "urgent": False,
        "admissions": 0,
        "days": 1,
    }
    r = hospital(hospital_inputs(**(base | change)))
    assert r.components[letter].points == r.total == points


# --- one admission type for both scores -------------------------------------------------


def test_hospital_reads_acute_admission_when_nonelective_is_not_given() -> None:
    inputs = DischargeInputs(acute_admission=True)
    assert inputs.index_admission_nonelective is True
    assert DischargeInputs(acute_admission=False).index_admission_nonelective is False


def test_an_urgent_direct_admission_is_urgent_for_hospital_but_not_acute_for_lace() -> None:
    # The site codes LACE acuity as "admitted via the ED"; this urgent admission came direct.
    inputs = replace(
        hospital_inputs(
            hb=14.0,
            oncology=False,
            sodium=140.0,
            procedure=False,
            urgent=True,
            admissions=0,
            days=1,
        ),
        acute_admission=False,
        charlson_index=0,
        ed_visits_6m=0,
    )
    assert lace(inputs).components["A"].points == 0
    assert hospital(inputs).components["IT"].points == 1


def test_nonelective_false_overrides_acute_for_hospital() -> None:
    inputs = DischargeInputs(acute_admission=True, nonelective_admission=False)
    assert inputs.index_admission_nonelective is False


# --- missing inputs ---------------------------------------------------------------------


def test_nothing_known_scores_nothing() -> None:
    r = discharge_risk(DischargeInputs())
    assert (r.risk, r.basis) == (None, ())
    assert (r.lace.total, r.hospital.total) == (None, None)
    assert r.lace.missing == LACE_FIELDS
    assert r.hospital.missing == HOSPITAL_FIELDS
    assert (r.lace.band, r.lace.normalised) == (None, None)
    assert dict(r.lace.components) == {}
    assert r.explanation.startswith("risk not computable (LACE not computable: missing ")


def test_a_missing_lab_leaves_hospital_uncomputed_and_risk_on_lace_alone() -> None:
    # LACE: 7-day stay (5) + emergent (3) + Charlson 2 (2) + 2 ED visits (2) = 12.
    # HOSPITAL has every input but sodium: not computed, never guessed.
    inputs = DischargeInputs(
        length_of_stay_days=7,
        acute_admission=True,
        charlson_index=2,
        ed_visits_6m=2,
        haemoglobin_g_dl=10.9,
        oncology_discharge=False,
        procedure_during_stay=True,
        admissions_12m=3,
    )
    r = discharge_risk(inputs)
    assert r.hospital.total is None
    assert r.hospital.missing == ("sodium_mmol_l",)
    assert r.hospital.explanation == "HOSPITAL not computable: missing sodium_mmol_l"
    assert r.basis == ("LACE",)
    assert r.risk == pytest.approx(12 / 19)
    assert r.explanation == (
        "risk 0.63 (LACE 12/19; HOSPITAL not computable: missing sodium_mmol_l)"
    )


def test_risk_on_hospital_alone_when_charlson_is_unknown() -> None:
    # HOSPITAL: 6 admissions (5) + 5-day stay (2) = 7; LACE lacks the Charlson index.
    inputs = replace(
        hospital_inputs(
            hb=14.0,
            oncology=False,
            sodium=140.0,
            procedure=False,
            urgent=False,
            admissions=6,
            days=5,
        ),
        acute_admission=False,
        ed_visits_6m=0,
    )
    r = discharge_risk(inputs)
    assert r.lace.missing == ("charlson_index",)
    assert r.basis == ("HOSPITAL",)
    assert r.risk == pytest.approx(7 / 13)


def test_both_scores_give_the_mean_of_their_normalised_totals() -> None:
    # LACE 12/19 (as above); HOSPITAL: Hb 10.9 (1) + Na 131 (1) + procedure (1) + urgent (1)
    # + 3 admissions (2) + 7-day stay (2) = 8/13. Mean: (12/19 + 8/13) / 2 = 0.6235.
    inputs = DischargeInputs(
        length_of_stay_days=7,
        acute_admission=True,
        charlson_index=2,
        ed_visits_6m=2,
        haemoglobin_g_dl=10.9,
        sodium_mmol_l=131.0,
        oncology_discharge=False,
        procedure_during_stay=True,
        admissions_12m=3,
    )
    r = discharge_risk(inputs)
    assert r.risk == pytest.approx((12 / 19 + 8 / 13) / 2)
    assert r.basis == ("LACE", "HOSPITAL")
    assert r.explanation == "risk 0.62 (LACE 12/19; HOSPITAL 8/13)"


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
