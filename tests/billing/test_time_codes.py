"""Time codes: a month's minutes per programme (RPM 99470/99457/99458, CCM 99490/99439),
only with an interactive communication, never mixed across programmes, on the patient's
calendar month, with append-only corrections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.exceptions import EvidenceError
from billing.models import Month, TimeEntry
from billing.rules import Rules, rules_for
from billing.time_codes import codes_for_minutes, effective_entries, ladder, month_time
from hub.care_programs import ProgramKind

RULES = rules_for(date(2026, 1, 1))
NEW_YORK = "America/New_York"
MARCH = Month(2026, 3)
MID_MARCH = datetime(2026, 3, 10, 15, tzinfo=UTC)


def entry(
    entry_id: str,
    minutes: int,
    program: ProgramKind = ProgramKind.RPM,
    *,
    interactive: bool = False,
    at: datetime = MID_MARCH,
    supersedes: str | None = None,
) -> TimeEntry:
    return TimeEntry(
        entry_id, program, "rn-1", at, interactive, minutes=minutes, supersedes=supersedes
    )


def claim(
    entries: list[TimeEntry], program: ProgramKind = ProgramKind.RPM, rules: Rules | None = None
) -> list[str]:
    month = month_time(entries, program=program, month=MARCH, time_zone=NEW_YORK, rules=rules)
    return [str(line) for line in month.lines]


def a_month_of(minutes: int, program: ProgramKind = ProgramKind.RPM) -> list[TimeEntry]:
    """A call of 5 minutes (interactive) and the rest as review time."""
    call = min(5, minutes)
    return [
        entry("call", call, program, interactive=True),
        entry("review", minutes - call, program),
    ]


# --- the thresholds, worked by hand ------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (9, []),
        (10, ["99470"]),
        (19, ["99470"]),
        (20, ["99457"]),  # never 99470 beside it
        (39, ["99457"]),
        (40, ["99457", "99458"]),
        (60, ["99457", "99458x2"]),
        (100, ["99457", "99458x2"]),  # 99458 capped at 2
    ],
)
def test_rpm_minutes(minutes: int, codes: list[str]) -> None:
    assert claim(a_month_of(minutes)) == codes


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (9, []),
        (10, []),
        (19, []),
        (20, ["99490"]),
        (39, ["99490"]),
        (40, ["99490", "99439"]),
        (60, ["99490", "99439x2"]),
        (100, ["99490", "99439x2"]),  # 99439 capped at 2
    ],
)
def test_ccm_minutes(minutes: int, codes: list[str]) -> None:
    assert claim(a_month_of(minutes, ProgramKind.CCM), ProgramKind.CCM) == codes


def test_the_month_reports_its_minutes_entries_and_codes_one_per_unit() -> None:
    month = month_time(a_month_of(60), program=ProgramKind.RPM, month=MARCH, time_zone=NEW_YORK)
    assert (month.minutes, month.interactive, month.entry_ids) == (60, True, ("call", "review"))
    assert month.codes == ("99457", "99458", "99458")
    assert month.rules_id == "cms-2026"


def test_start_and_end_times_count_whole_minutes_never_rounded_up() -> None:
    start = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    timed = TimeEntry(
        "t1",
        ProgramKind.RPM,
        "rn-1",
        start,
        True,
        ended_at=start + timedelta(minutes=19, seconds=59),
    )
    assert timed.spent_minutes == 19
    assert claim([timed]) == ["99470"]


# --- the interactive communication -------------------------------------------------------


def test_no_interactive_contact_no_code_but_the_minutes_still_count() -> None:
    quiet = [entry("review-1", 30), entry("review-2", 35)]
    month = month_time(quiet, program=ProgramKind.RPM, month=MARCH, time_zone=NEW_YORK)
    assert (month.minutes, month.interactive, month.lines) == (65, False, ())


def test_an_interactive_contact_in_another_programme_does_not_count() -> None:
    entries = [entry("rpm-review", 25), entry("ccm-call", 2, ProgramKind.CCM, interactive=True)]
    assert claim(entries) == []


def test_a_setting_can_drop_the_interactive_condition() -> None:
    ccm = RULES.program(ProgramKind.CCM).model_copy(update={"requires_interactive_contact": False})
    rules = RULES.model_copy(update={"time": {**RULES.time, ProgramKind.CCM: ccm}})
    assert claim([entry("review", 25, ProgramKind.CCM)], ProgramKind.CCM, rules=rules) == ["99490"]


# --- programmes and months ---------------------------------------------------------------


def test_minutes_never_mix_across_programmes() -> None:
    # 15 + 15 would be 30 minutes, 99457, if mixed; apart RPM earns 99470 and CCM nothing.
    entries = [
        entry("r", 15, ProgramKind.RPM, interactive=True),
        entry("c", 15, ProgramKind.CCM, interactive=True),
    ]
    assert claim(entries, ProgramKind.RPM) == ["99470"]
    assert claim(entries, ProgramKind.CCM) == []


def test_an_entry_belongs_to_the_patients_month_of_its_start() -> None:
    entries = [
        # 1 April 03:30 UTC is 31 March 23:30 in New York: March.
        entry("late-march", 12, interactive=True, at=datetime(2026, 4, 1, 3, 30, tzinfo=UTC)),
        # 1 March 04:30 UTC is 28 February 23:30 in New York: February.
        entry("late-feb", 30, interactive=True, at=datetime(2026, 3, 1, 4, 30, tzinfo=UTC)),
        # 1 March 05:30 UTC is 00:30 on 1 March in New York: March.
        entry("early-march", 10, at=datetime(2026, 3, 1, 5, 30, tzinfo=UTC)),
    ]
    march = month_time(entries, program=ProgramKind.RPM, month=MARCH, time_zone=NEW_YORK)
    assert (march.entry_ids, march.minutes) == (("late-march", "early-march"), 22)
    assert [str(line) for line in march.lines] == ["99457"]
    feb = month_time(entries, program=ProgramKind.RPM, month=Month(2026, 2), time_zone=NEW_YORK)
    assert (feb.entry_ids, [str(line) for line in feb.lines]) == (("late-feb",), ["99457"])
    in_utc = month_time(entries, program=ProgramKind.RPM, month=MARCH, time_zone="UTC")
    assert in_utc.entry_ids == ("late-feb", "early-march")


# --- corrections -------------------------------------------------------------------------


def test_a_correction_replaces_the_entry_it_supersedes() -> None:
    entries = [
        entry("call", 5, interactive=True),
        entry("review", 20),
        entry("review-fixed", 8, supersedes="review"),  # it was 8 minutes, not 20
    ]
    assert claim(entries) == ["99470"]
    assert [e.entry_id for e in effective_entries(entries)] == ["call", "review-fixed"]


def test_a_zero_minute_correction_withdraws_and_chains_end_at_the_last() -> None:
    entries = [
        entry("call", 5, interactive=True),
        entry("a", 30),
        entry("b", 25, supersedes="a"),
        entry("c", 0, supersedes="b"),
    ]
    assert [e.entry_id for e in effective_entries(entries)] == ["call", "c"]
    assert claim(entries) == []


def test_withdrawing_the_only_interactive_entry_withdraws_the_codes() -> None:
    entries = [
        entry("call", 5, interactive=True),
        entry("review", 40),
        entry("call-void", 0, supersedes="call"),
    ]
    assert claim(entries) == []


def test_a_correction_may_move_an_entry_to_another_programme() -> None:
    entries = [
        entry("x", 25, ProgramKind.CCM, interactive=True),
        entry("x-fixed", 25, ProgramKind.RPM, interactive=True, supersedes="x"),
    ]
    assert claim(entries, ProgramKind.RPM) == ["99457"]
    assert claim(entries, ProgramKind.CCM) == []


def test_a_correction_of_an_entry_not_given_still_counts() -> None:
    assert claim([entry("fix", 12, interactive=True, supersedes="from-last-year")]) == ["99470"]


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([entry("a", 5), entry("a", 7)], "two time entries have the id"),
        ([entry("a", 5), entry("b", 5, supersedes="a"), entry("c", 5, supersedes="a")], "both"),
        ([entry("a", 5, supersedes="b"), entry("b", 5, supersedes="a")], "circle"),
    ],
)
def test_inconsistent_corrections_are_refused(entries: list[TimeEntry], says: str) -> None:
    with pytest.raises(EvidenceError, match=says):
        effective_entries(entries)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minutes": 5, "ended_at": MID_MARCH},
        {},
        {"minutes": -1},
        {"ended_at": MID_MARCH - timedelta(minutes=1)},
        {"minutes": 5, "supersedes": "e"},
    ],
)
def test_a_malformed_entry_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(EvidenceError):
        TimeEntry("e", ProgramKind.RPM, "rn-1", MID_MARCH, False, **kwargs)  # type: ignore[arg-type]


# --- the other reading of 99470 with 99457 -----------------------------------------------


def combined() -> Rules:
    rpm = RULES.program(ProgramKind.RPM).model_copy(update={"combine_first_codes": True})
    return RULES.model_copy(update={"time": {**RULES.time, ProgramKind.RPM: rpm}})


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (19, ["99470"]),
        (29, ["99457"]),
        (30, ["99457", "99470"]),
        (40, ["99457", "99458"]),
        (50, ["99457", "99458", "99470"]),
        (70, ["99457", "99458x2", "99470"]),
    ],
)
def test_when_combining_is_allowed_99470_bills_a_remainder_of_ten(
    minutes: int, codes: list[str]
) -> None:
    assert claim(a_month_of(minutes), rules=combined()) == codes


# --- properties --------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=400))
def test_rpm_codes_follow_the_formula(minutes: int) -> None:
    lines = {
        line.code: line.units for line in codes_for_minutes(minutes, RULES.program(ProgramKind.RPM))
    }
    assert not ("99470" in lines and "99457" in lines)
    if minutes < 10:
        assert lines == {}
    elif minutes < 20:
        assert lines == {"99470": 1}
    else:
        extra = min(2, (minutes - 20) // 20)
        assert lines == ({"99457": 1, "99458": extra} if extra else {"99457": 1})


@given(st.lists(st.integers(min_value=0, max_value=45), min_size=1, max_size=12))
def test_only_the_sum_of_a_months_entries_matters(parts: list[int]) -> None:
    entries = [
        entry(f"e{i}", m, interactive=i == 0, at=MID_MARCH + timedelta(days=i))
        for i, m in enumerate(parts)
    ]
    expected = codes_for_minutes(sum(parts), RULES.program(ProgramKind.RPM))
    month = month_time(entries, program=ProgramKind.RPM, month=MARCH, time_zone=NEW_YORK)
    assert (month.minutes, month.lines) == (sum(parts), expected)


@given(st.lists(st.integers(min_value=0, max_value=45), min_size=1, max_size=10), st.data())
def test_withdrawing_an_entry_is_the_same_as_leaving_it_out(
    parts: list[int], data: st.DataObject
) -> None:
    entries = [entry(f"e{i}", m, interactive=True) for i, m in enumerate(parts)]
    gone = data.draw(st.sets(st.sampled_from([e.entry_id for e in entries])))
    withdrawals = [entry(f"void-{g}", 0, interactive=False, supersedes=g) for g in sorted(gone)]
    kept = [e for e in entries if e.entry_id not in gone]
    both = month_time(
        [*entries, *withdrawals], program=ProgramKind.RPM, month=MARCH, time_zone="UTC"
    )
    left_out = month_time(kept, program=ProgramKind.RPM, month=MARCH, time_zone="UTC")
    assert (both.minutes, both.interactive, both.lines) == (
        left_out.minutes,
        left_out.interactive,
        left_out.lines,
    )


def test_the_ladder_is_ascending_and_ends_at_the_cap() -> None:
    steps = ladder(RULES.program(ProgramKind.CCM))
    assert [s.min_minutes for s in steps] == [20, 40, 60]
