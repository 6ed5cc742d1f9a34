"""The rules file: the 2026 numbers as shipped, choosing a file by service date,
next year as a new file, and the coded refusal of a malformed file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from billing.exceptions import NoRulesError, RulesError, RulesErrorCode
from billing.rules import RULES_DIR, in_force, load_rules, rules_for, shipped_rules, working_rules
from hub.care_programs import Complexity, DischargeSetting, ProgramKind

SHIPPED = (RULES_DIR / "cms-2026.toml").read_text(encoding="utf-8")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, text: str = SHIPPED) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def refusal(tmp_path: Path, text: str, name: str = "cms-2026") -> RulesError:
    with pytest.raises(RulesError) as caught:
        load_rules(write(tmp_path, name, text))
    return caught.value


# --- the shipped 2026 file ---------------------------------------------------------------


def test_2026_device_tiers_setup_and_period() -> None:
    rpm = rules_for(date(2026, 6, 1)).rpm
    assert rpm.period_days == 30
    assert [(t.code, t.min_days, t.max_days) for t in rpm.tiers_by_days] == [
        ("99454", 16, 30),
        ("99445", 2, 15),
    ]
    assert (rpm.setup.code, rpm.setup.min_days) == ("99453", 2)
    assert "16" in rpm.setup.min_days_why  # the disagreement is written down


def test_2026_time_codes_and_caps() -> None:
    rules = rules_for(date(2026, 6, 1))
    rpm, ccm = rules.program(ProgramKind.RPM), rules.program(ProgramKind.CCM)
    assert [(f.code, f.min_minutes) for f in rpm.firsts_by_minutes] == [
        ("99457", 20),
        ("99470", 10),
    ]
    rpm_extra, ccm_extra = rpm.additional, ccm.additional
    assert rpm_extra is not None
    assert ccm_extra is not None
    assert (rpm_extra.code, rpm_extra.after, rpm_extra.each_minutes, rpm_extra.max_units) == (
        "99458",
        "99457",
        20,
        2,
    )
    assert rpm.combine_first_codes is False
    assert [(f.code, f.min_minutes) for f in ccm.first] == [("99490", 20)]
    assert (ccm_extra.code, ccm_extra.each_minutes, ccm_extra.max_units) == ("99439", 20, 2)
    assert rpm.requires_interactive_contact
    assert ccm.requires_interactive_contact


def test_2026_tcm() -> None:
    tcm = rules_for(date(2026, 6, 1)).tcm
    assert tcm.contact_business_days == 2
    assert tcm.service_period_days == 30
    assert tcm.holiday_country == "US"
    assert [(c.code, c.face_to_face_within_days, set(c.complexities)) for c in tcm.codes] == [
        ("99496", 7, {Complexity.HIGH}),
        ("99495", 14, {Complexity.MODERATE, Complexity.HIGH}),
    ]
    assert (tcm.unsuccessful_attempts, tcm.unsuccessful_attempts_source) == (2, "tcm-faq-2016")
    assert DischargeSetting.SKILLED_NURSING in tcm.qualifying_settings
    assert DischargeSetting.EMERGENCY_DEPARTMENT not in tcm.qualifying_settings


def test_every_rule_names_a_listed_source_with_an_address() -> None:
    rules = rules_for(date(2026, 1, 1))
    cited = dict(rules.cited())
    assert {"rpm.source", "rpm.setup.source", "time.RPM.source", "tcm.holiday_source"} <= set(cited)
    assert set(cited.values()) <= set(rules.sources)
    assert all(s.url.startswith("https://") and s.checked for s in rules.sources.values())


def test_the_rules_are_frozen() -> None:
    rules = rules_for(date(2026, 1, 1))
    with pytest.raises(ValidationError):
        rules.rpm.period_days = 31  # type: ignore[misc]


# --- choosing a file by service date -------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 12, 31)])
def test_the_2026_file_covers_its_first_and_last_day(day: date) -> None:
    assert rules_for(day).meta.id == "cms-2026"


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2027, 1, 1)])
def test_a_day_no_file_covers_is_a_coded_error(day: date) -> None:
    with pytest.raises(NoRulesError) as caught:
        rules_for(day)
    assert caught.value.code is RulesErrorCode.NOT_FOUND


def test_the_working_rules_go_on_past_the_last_file_while_a_claim_is_refused() -> None:
    """Clocks and forecasts keep the last year's rules on 1 January; what is billed does not."""
    assert working_rules(date(2027, 1, 4)).meta.id == "cms-2026"
    assert working_rules(date(2025, 12, 1)).meta.id == "cms-2026"
    assert in_force(date(2027, 1, 4)).meta.id == "cms-2026"
    with pytest.raises(NoRulesError):
        rules_for(date(2027, 1, 4))


def test_next_year_is_a_new_file_not_code(tmp_path: Path) -> None:
    write(tmp_path, "cms-2026", SHIPPED)
    text = edited('id = "cms-2026"', 'id = "cms-2027"')
    text = edited("effective_from = 2026-01-01", "effective_from = 2027-01-01", text)
    text = edited("effective_through = 2026-12-31", "effective_through = 2027-12-31", text)
    text = edited("min_days = 2\nmin_days_why", "min_days = 16\nmin_days_why", text)
    write(tmp_path, "cms-2027", text)
    assert [r.meta.id for r in shipped_rules(tmp_path)] == ["cms-2026", "cms-2027"]
    assert rules_for(date(2026, 12, 31), tmp_path).rpm.setup.min_days == 2
    assert rules_for(date(2027, 1, 1), tmp_path).rpm.setup.min_days == 16
    assert working_rules(date(2027, 1, 1), tmp_path).meta.id == "cms-2027"


def test_two_files_covering_one_day_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "cms-2026", SHIPPED)
    write(tmp_path, "cms-2026b", edited('id = "cms-2026"', 'id = "cms-2026b"'))
    with pytest.raises(RulesError) as caught:
        shipped_rules(tmp_path)
    assert caught.value.code is RulesErrorCode.OVERLAP


# --- malformed files --------------------------------------------------------------------


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "cms-2026.toml")
    assert caught.value.code is RulesErrorCode.UNREADABLE


def test_text_that_is_not_toml_is_unreadable(tmp_path: Path) -> None:
    assert refusal(tmp_path, "[meta\nid = ").code is RulesErrorCode.UNREADABLE


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("period_days = 30\n", "", "rpm.period_days"),  # missing
        ('code = "99454"', 'code = "9945"', "rpm.device_supply.0.code"),  # not a code
        ("min_days = 16", "min_days = 0", "rpm.device_supply.0.min_days"),
        ("unsuccessful_attempts = 2", "unsuccessful_attempts = 2\nretries = 3", "tcm.retries"),
        ('complexities = ["high"]', 'complexities = ["severe"]', "tcm.codes.0.complexities"),
        (  # a setting without its reason
            'combine_first_codes_why = "CCM has one first code; nothing to combine."',
            'combine_first_codes_why = ""',
            "time.CCM.combine_first_codes_why",
        ),
        ("effective_from = 2026-01-01", 'effective_from = "soon"', "meta.effective_from"),
    ],
)
def test_a_value_of_the_wrong_shape_is_invalid_and_named(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    error = refusal(tmp_path, edited(old, new))
    assert error.code is RulesErrorCode.INVALID
    assert where in error.detail


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("min_days = 2\nmax_days = 15", "min_days = 2\nmax_days = 16", "overlap"),
        ("min_days = 16\nmax_days = 30", "min_days = 16\nmax_days = 31", "above period_days"),
        (
            'source = "tcm-mln"\n# The service',
            'source = "tcm-booklet"\n# The service',
            "tcm-booklet",
        ),
        ('id = "cms-2026"', 'id = "cms-2025"', "not the file's name"),
        ("effective_through = 2026-12-31", "effective_through = 2025-12-31", "before"),
        ('holiday_country = "US"', 'holiday_country = "QQ"', "holiday calendar"),
        ('after = "99457"', 'after = "99470"', None),  # valid: 99470 is a first code
        ('after = "99490"', 'after = "99457"', "not one of its first codes"),
        (
            'combine_first_codes = false\ncombine_first_codes_why = "CCM',
            'combine_first_codes = true\ncombine_first_codes_why = "CCM',
            "needs two first codes",
        ),
        ("face_to_face_within_days = 14", "face_to_face_within_days = 30", "service period"),
    ],
)
def test_values_that_contradict_each_other_are_inconsistent(
    tmp_path: Path, old: str, new: str, says: str | None
) -> None:
    text = edited(old, new)
    if says is None:
        load_rules(write(tmp_path, "cms-2026", text))
        return
    error = refusal(tmp_path, text)
    assert error.code is RulesErrorCode.INCONSISTENT
    assert says in error.detail
    assert str(error).startswith("rules_inconsistent: cms-2026.toml: ")
