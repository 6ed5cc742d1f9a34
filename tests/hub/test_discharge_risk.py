"""LACE and HOSPITAL at enrollment: hand-worked patients, missing inputs, then properties.

Every patient here is made up; the arithmetic is written out next to each case.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hub.discharge_risk import (
    DischargeInputs,
    discharge_risk,
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
