"""The forecast's period (``period_of_days``) is the last of all the episode's periods
(``periods_of_days``), set-up included, whatever the days: it only skips counting the
earlier periods without data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.device_days import period_of_days, periods_of_days
from billing.exceptions import EvidenceError

START = date(2025, 6, 1)  # before the first rules file: its periods are counted too


@settings(deadline=None)  # the first example loads the rules files
@given(
    offsets=st.sets(st.integers(min_value=-40, max_value=500), max_size=60),
    through=st.integers(min_value=0, max_value=480),
)
def test_the_period_holding_through_is_the_last_of_all_periods(
    offsets: set[int], through: int
) -> None:
    days = [START + timedelta(days=n) for n in offsets]
    last = START + timedelta(days=through)
    assert (
        period_of_days(START, days, through=last) == periods_of_days(START, days, through=last)[-1]
    )


def test_the_set_up_is_earned_in_the_first_period_with_two_days_even_if_it_is_today() -> None:
    two = [date(2026, 3, 2), date(2026, 3, 3)]
    assert period_of_days(date(2026, 1, 1), two, through=date(2026, 3, 10)).setup
    earlier = [date(2026, 1, 2), date(2026, 1, 3), *two]
    assert not period_of_days(date(2026, 1, 1), earlier, through=date(2026, 3, 10)).setup


def test_a_day_before_the_start_is_refused() -> None:
    with pytest.raises(EvidenceError):
        period_of_days(date(2026, 3, 1), [], through=date(2026, 2, 28))
