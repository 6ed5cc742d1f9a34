"""Classifying a medication by its RxNorm or NDC code, and the bundled code table."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.medications import (
    CODE_SYSTEMS,
    CODES_CSV,
    classify,
    classify_code,
    drug_classes,
    drug_codes,
    normalize_ndc,
)

_DIGITS = "0123456789"


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_DIGITS, min_size=n, max_size=n)


def _rows() -> list[dict[str, str]]:
    with CODES_CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.mark.parametrize(
    ("code", "normal"),
    [
        ("1234-5678-90", "01234567890"),  # 4-4-2: the labeler gets the zero
        ("12345-678-90", "12345067890"),  # 5-3-2: the product
        ("12345-6789-0", "12345678900"),  # 5-4-1: the package
        ("12345-6789-01", "12345678901"),  # 5-4-2 is 11 digits already
        ("12345678901", "12345678901"),
        (" 12345678901 ", "12345678901"),
        ("1234567890", None),  # ten bare digits: 4-4-2, 5-3-2 or 5-4-1?
        ("123-4567-890", None),
        ("1234-567-89", None),  # 4-3-2 is nine digits: no NDC layout
        ("12345-6789-012", None),
        ("123456789012", None),
        ("1234\uff15678901", None),  # a full-width digit 5 is not a digit here
        ("", None),
    ],
)
def test_an_ndc_is_normalised_to_eleven_digits_only_when_unambiguous(
    code: str, normal: str | None
) -> None:
    assert normalize_ndc(code) == normal


@given(
    st.sampled_from([(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)]).flatmap(
        lambda layout: st.tuples(*(_digits(n) for n in layout))
    )
)
def test_a_hyphenated_ndc_pads_each_segment_to_five_four_two(
    segments: tuple[str, str, str],
) -> None:
    labeler, product, package = segments
    normal = normalize_ndc(f"{labeler}-{product}-{package}")
    assert normal == labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    assert normalize_ndc(normal) == normal  # idempotent


#: The segment (labeler 0, product 1, package 2) each 10-digit layout prints short.
_SHORT_SEGMENT = {(4, 4, 2): 0, (5, 3, 2): 1, (5, 4, 1): 2}


@given(st.sampled_from(sorted(_SHORT_SEGMENT)), _digits(5), _digits(4), _digits(2))
def test_the_ten_digit_forms_of_an_ndc_normalise_back_to_it(
    layout: tuple[int, int, int], labeler: str, product: str, package: str
) -> None:
    index = _SHORT_SEGMENT[layout]
    segments = [labeler, product, package]
    segments[index] = "0" + segments[index][1:]  # the zero the 10-digit form drops
    printed = [s[1:] if i == index else s for i, s in enumerate(segments)]
    assert [len(s) for s in printed] == list(layout)
    assert normalize_ndc("-".join(printed)) == "".join(segments)


@given(st.text(max_size=20))
def test_normalising_any_text_gives_eleven_ascii_digits_or_nothing(text: str) -> None:
    normal = normalize_ndc(text)
    assert normal is None or re.fullmatch(r"[0-9]{11}", normal)


@given(_digits(10))
def test_ten_bare_digits_are_never_guessed(code: str) -> None:
    assert normalize_ndc(code) is None


def test_the_bundled_code_table_is_well_formed_and_every_row_classifies() -> None:
    rows = _rows()
    header = CODES_CSV.read_text(encoding="utf-8").split("\nsystem,code,name,source\n")[0]
    keys = [(r["system"], r["code"]) for r in rows]
    assert len(keys) == len(set(keys)), "a code is listed twice"
    for row in rows:
        assert row["system"] in CODE_SYSTEMS, row
        pattern = r"[0-9]{11}" if row["system"] == "ndc" else r"[0-9]{1,8}"
        assert re.fullmatch(pattern, row["code"]), row
        assert classify(row["name"]).classes, row  # only codes in a class are listed
        for source in row["source"].split("+"):
            assert f"#   {source} " in header, (source, row)  # every source is named
    covered = {c for r in rows for c in classify(r["name"]).classes}
    assert covered == set(drug_classes())


def test_the_fictitious_codes_of_the_dispense_tests_are_not_in_the_table() -> None:
    # tests/test_dispenses.py and test_pharmacy_mqtt.py use 1000001-1000005 as
    # made-up RxNorm codes (1000001 is a real concept; it is left out here).
    assert not [c for c in ("1000001", "1000002", "1000003", "1000004", "1000005")
                if ("rxnorm", c) in drug_codes()]  # fmt: skip


@pytest.mark.parametrize(
    ("system", "code", "drug", "classes"),
    [
        ("rxnorm", "313988", "furosemide", {"loop_diuretics"}),  # an SCD
        ("rxnorm", "29046", "lisinopril", {"ras_antagonists"}),  # an ingredient
        ("rxnorm", "1656354", "sacubitril+valsartan", {"ras_antagonists"}),
        ("rxnorm", "197885", "hydrochlorothiazide+lisinopril",
         {"ras_antagonists", "thiazide_diuretics"}),
        ("ndc", "55154-5875-00", "furosemide", {"loop_diuretics"}),  # hyphenated 5-4-2
        ("ndc", "55154587500", "furosemide", {"loop_diuretics"}),
        ("rxnorm", "9000001", "", set()),  # unknown: no drug, not an error
        ("ndc", "not-an-ndc", "", set()),
    ],
)  # fmt: skip
def test_a_code_is_classified_by_its_name(
    system: str, code: str, drug: str, classes: set[str]
) -> None:
    found = classify_code(system, code)
    assert (found.drug, found.classes) == (drug, frozenset(classes))
