"""PDC by the PQA rules: hand-worked cases, then the fast count against the day-by-day one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.pdc import Fill, PdcError, PdcResult, Stay, pdc, pdc_by_days


def both(
    fills: list[Fill], start: date, end: date, stays: tuple[Stay, ...] = ()
) -> PdcResult | None:
    """The fast result, after checking that the day-by-day reading agrees."""
    fast = pdc(fills, period_start=start, period_end=end, stays=stays)
    assert fast == pdc_by_days(fills, period_start=start, period_end=end, stays=stays)
    return fast


def test_an_early_refill_shifts_across_the_new_year() -> None:
    # Metoprolol, period 1 Jul 2025 - 30 Jun 2026:
    #   1 Dec, 30 days            -> 1 Dec - 30 Dec
    #   20 Dec, 30 days (early)   -> shifted to 31 Dec: 31 Dec - 29 Jan 2026
    #   20 Jan, 30 days (early)   -> shifted to 30 Jan: 30 Jan - 28 Feb
    # Covered 1 Dec - 28 Feb = 31 + 31 + 28 = 90 days; index 1 Dec to 30 Jun =
    # 31 + 31 + 28 + 31 + 30 + 31 + 30 = 212 days. (Without the shift: 79.)
    fills = [
        Fill("metoprolol", date(2025, 12, 1), 30),
        Fill("metoprolol", date(2025, 12, 20), 30),
        Fill("metoprolol", date(2026, 1, 20), 30),
    ]
    r = both(fills, date(2025, 7, 1), date(2026, 6, 30))
    assert r is not None
    assert (r.index_date, r.covered_days, r.period_days) == (date(2025, 12, 1), 90, 212)
    assert r.pdc == pytest.approx(90 / 212)
    assert r.adherent() is False


def test_different_drugs_of_a_class_filled_the_same_day_do_not_shift() -> None:
    # 1 Jan - 31 Mar 2025 (90 days). Lisinopril 1 Jan and 31 Jan, 30 days
    # each: 1 Jan - 1 Mar. Losartan 1 Jan, 30 days: 1 Jan - 30 Jan, the same
    # days, counted once. Covered 31 + 28 + 1 = 60. (Shifted as one drug: 90.)
    fills = [
        Fill("lisinopril", date(2025, 1, 1), 30),
        Fill("losartan", date(2025, 1, 1), 30),
        Fill("lisinopril", date(2025, 1, 31), 30),
    ]
    r = both(fills, date(2025, 1, 1), date(2025, 3, 31))
    assert r is not None
    assert (r.covered_days, r.period_days) == (60, 90)


def test_supply_past_the_period_end_is_cut_off() -> None:
    # Furosemide, 1 Oct (90 days: 1 Oct - 29 Dec), 15 Dec (90 days, shifted to
    # 30 Dec, cut at 31 Dec: 2 days). Index 1 Oct: 31 + 30 + 31 = 92 days.
    fills = [Fill("furosemide", date(2025, 10, 1), 90), Fill("furosemide", date(2025, 12, 15), 90)]
    r = both(fills, date(2025, 1, 1), date(2025, 12, 31))
    assert r is not None
    assert (r.covered_days, r.period_days, r.pdc) == (92, 92, 1.0)
    assert r.adherent() is True


def test_one_fill_or_fills_on_one_day_are_not_eligible() -> None:
    one = both([Fill("atorvastatin", date(2025, 3, 1), 90)], date(2025, 1, 1), date(2025, 12, 31))
    assert one is not None
    assert not one.eligible
    assert one.adherent() is None
    same_day = [Fill("lisinopril", date(2025, 3, 1), 30), Fill("losartan", date(2025, 3, 1), 30)]
    two = both(same_day, date(2025, 1, 1), date(2025, 12, 31))
    assert two is not None
    assert not two.eligible
    assert both([], date(2025, 1, 1), date(2025, 12, 31)) is None
    # A fill outside the period does not count.
    before = [
        Fill("atorvastatin", date(2024, 12, 1), 90),
        Fill("atorvastatin", date(2025, 3, 1), 90),
    ]
    assert not (r := both(before, date(2025, 1, 1), date(2025, 12, 31))) or not r.eligible


def test_an_inpatient_stay_leaves_the_count_and_moves_the_supply() -> None:
    # 1 Mar - 30 Apr 2025 (61 days). Empagliflozin 1 Mar, 30 days; in hospital
    # 10-14 Mar (discharged 15 Mar): 1-9 Mar covered, the other 21 days from
    # 15 Mar to 4 Apr. The 1 Apr refill shifts to 5 Apr and is cut at 30 Apr
    # (26 days). Covered 9 + 21 + 26 = 56 of 61 - 5 = 56 days at home.
    # (Without the stay: 60 of 61.)
    fills = [
        Fill("empagliflozin", date(2025, 3, 1), 30),
        Fill("empagliflozin", date(2025, 4, 1), 30),
    ]
    stay = (Stay(date(2025, 3, 10), date(2025, 3, 15)),)
    r = both(fills, date(2025, 3, 1), date(2025, 4, 30), stay)
    assert r is not None
    assert (r.covered_days, r.period_days) == (56, 56)
    plain = both(fills, date(2025, 3, 1), date(2025, 4, 30))
    assert plain is not None
    assert (plain.covered_days, plain.period_days) == (60, 61)


def test_impossible_inputs_are_refused() -> None:
    with pytest.raises(PdcError):
        pdc(
            [Fill("x", date(2025, 1, 1), -1)],
            period_start=date(2025, 1, 1),
            period_end=date(2025, 2, 1),
        )
    with pytest.raises(PdcError):
        pdc(
            [Fill("x", date(2025, 1, 1), 30)],
            period_start=date(2025, 1, 1),
            period_end=date(2025, 2, 1),
            stays=[Stay(date(2025, 1, 9), date(2025, 1, 5))],
        )


DAY0 = date(2025, 1, 1)
day = st.integers(min_value=0, max_value=400).map(lambda n: DAY0 + timedelta(days=n))
fills = st.lists(
    st.builds(Fill, st.sampled_from(["a", "b", "c"]), day, st.integers(0, 120)), max_size=12
)
stays = st.lists(
    st.tuples(day, st.integers(0, 20)).map(lambda t: Stay(t[0], t[0] + timedelta(days=t[1]))),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(fills, stays, day, st.integers(0, 400))
def test_the_interval_count_equals_the_day_by_day_count(
    some: list[Fill], in_hospital: list[Stay], start: date, length: int
) -> None:
    end = start + timedelta(days=length)
    fast = pdc(some, period_start=start, period_end=end, stays=in_hospital)
    slow = pdc_by_days(some, period_start=start, period_end=end, stays=in_hospital)
    assert fast == slow
    if fast is not None:
        assert 0 <= fast.covered_days <= fast.period_days
