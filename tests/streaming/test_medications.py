"""Drug classes from medication names, and the data files behind them."""

from __future__ import annotations

import re

import pytest

from hub.medications import classify, drug_classes, ingredients

#: The ATC group each class's ingredients must come from.
GROUPS = {
    "ras_antagonists": ("C09",),
    "beta_blockers": ("C07",),
    "loop_diuretics": ("C03C",),
    "thiazide_diuretics": ("C03A", "C03B"),
    "mineralocorticoid_antagonists": ("C03D",),
    "sglt2_inhibitors": ("A10BK",),
    "statins": ("C10AA",),
    "diabetes_non_insulin": ("A10B",),
}


@pytest.mark.parametrize(
    ("text", "drug", "classes"),
    [
        ("Lisinopril 10 MG Oral Tablet", "lisinopril", {"ras_antagonists"}),
        ("Entresto (sacubitril 49 MG / valsartan 51 MG)", "sacubitril+valsartan",
         {"ras_antagonists"}),
        ("TORASEMIDE 10mg tablets", "torsemide", {"loop_diuretics"}),
        ("torsemide 20 mg", "torsemide", {"loop_diuretics"}),
        ("Jardiance (empagliflozin) 10 MG", "empagliflozin",
         {"sglt2_inhibitors", "diabetes_non_insulin"}),
        ("Metoprolol succinate ER 50 MG", "metoprolol", {"beta_blockers"}),
        ("Acetaminophen 500 MG", "", set()),
    ],
)  # fmt: skip
def test_medications_are_classified_by_their_ingredients(
    text: str, drug: str, classes: set[str]
) -> None:
    found = classify(text)
    assert found.drug == drug
    assert found.classes == classes


def test_every_class_is_described_and_every_ingredient_is_in_its_atc_group() -> None:
    described = set(drug_classes())
    used = {c for i in ingredients().values() for c in i.classes}
    assert used == described == set(GROUPS)
    for ingredient in ingredients().values():
        assert re.fullmatch(r"[A-Z]\d\d[A-Z]{2}\d\d", ingredient.atc), ingredient
        for c in ingredient.classes:
            assert ingredient.atc.startswith(GROUPS[c]), (ingredient, c)
    assert all(0 < c.pdc_threshold <= 1 for c in drug_classes().values())
