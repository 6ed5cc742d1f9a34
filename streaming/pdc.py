"""Proportion of days covered (PDC), as the Pharmacy Quality Alliance defines it.

For one patient and one drug class, over a measurement period:

* **Fills** count when their date of service falls in the period. The
  patient is **eligible** only with at least two fills on different dates.
* The **treatment period** runs from the index date (the first fill in the
  period) to the period's end, both included.
* A fill of the **same drug** made before that drug's previous supply ran
  out starts the day after it runs out (the early refill is not lost, it is
  shifted). Fills of **different drugs** of the class are not shifted: a day
  covered by two of them counts once.
* Supply that reaches past the period's end is cut off there.
* Optionally, **inpatient stays** leave the calculation: a day in hospital is
  neither in the denominator nor covered, and supply that would fall in a
  stay moves to after discharge (the patient took the hospital's drugs). A
  stay is ``[admitted, discharged)``: the discharge day is a day at home.

``PDC = covered days / days in the treatment period``; adherent when it is at
least the class's threshold (0.80 by default).

Days are counted with intervals rather than day by day, so a year of fills
costs a few dozen operations; :func:`pdc_by_days` is the day-by-day reading
of the same rules that the tests check the fast one against.

>>> from datetime import date
>>> fills = [Fill("lisinopril", date(2025, 1, 1), 30), Fill("lisinopril", date(2025, 1, 25), 30)]
>>> r = pdc(fills, period_start=date(2025, 1, 1), period_end=date(2025, 3, 31))
>>> r.covered_days, r.period_days, round(r.pdc, 3)   # 25 Jan moves to 31 Jan: 60 days
(60, 90, 0.667)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from streaming.exceptions import StreamingError

#: PDC at or above this is adherent, unless a class says otherwise.
DEFAULT_THRESHOLD = 0.80


class PdcError(StreamingError):
    """Inputs a PDC cannot be computed from (a negative supply, a stay ending before it starts)."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One dispense: which drug (the same name is the same drug), when, for how many days."""

    drug: str
    filled_on: date
    days_supply: int


@dataclass(frozen=True, slots=True)
class Stay:
    """An inpatient stay: in hospital from ``admitted`` to the day before ``discharged``."""

    admitted: date
    discharged: date


@dataclass(frozen=True, slots=True)
class PdcResult:
    """The PDC of one class, with the days it was computed from."""

    index_date: date
    period_end: date
    fills: int
    covered_days: int
    period_days: int
    eligible: bool

    @property
    def pdc(self) -> float:
        return self.covered_days / self.period_days if self.period_days else 0.0

    def adherent(self, threshold: float = DEFAULT_THRESHOLD) -> bool | None:
        """Whether PDC reaches ``threshold``; ``None`` when not eligible."""
        return self.pdc >= threshold if self.eligible else None


Interval = tuple[int, int]  # ordinal days, half-open


def _check(fills: Sequence[Fill], stays: Sequence[Stay]) -> None:
    for f in fills:
        if f.days_supply < 0:
            raise PdcError(f"negative days' supply in {f}")
    for s in stays:
        if s.discharged < s.admitted:
            raise PdcError(f"a stay discharged before it was admitted: {s}")


def _in_period(fills: Iterable[Fill], start: date, end: date) -> list[Fill]:
    return sorted((f for f in fills if start <= f.filled_on <= end), key=_fill_key)


def _result(in_period: Sequence[Fill], period_end: date, covered: int, days: int) -> PdcResult:
    return PdcResult(
        index_date=in_period[0].filled_on,
        period_end=period_end,
        fills=len(in_period),
        covered_days=covered,
        period_days=days,
        eligible=len({f.filled_on for f in in_period}) >= 2,  # on different dates
    )


def _fill_key(f: Fill) -> tuple[date, str]:
    return f.filled_on, f.drug


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _place(start: int, days: int, stays: Sequence[Interval]) -> tuple[list[Interval], int]:
    """Cover ``days`` days from ``start``, skipping stays; the intervals and the next free day."""
    out: list[Interval] = []
    d = start
    for a, b in stays:
        if days == 0:
            break
        if b <= d:
            continue
        if a > d:
            take = min(days, a - d)
            out.append((d, d + take))
            days -= take
            d += take
            if days == 0:
                break
        d = max(d, b)
    if days:
        out.append((d, d + days))
        d += days
    return out, d


def _overlap(intervals: Iterable[Interval], lo: int, hi: int) -> int:
    return sum(max(0, min(b, hi) - max(a, lo)) for a, b in intervals)


def pdc(
    fills: Iterable[Fill],
    *,
    period_start: date,
    period_end: date,
    stays: Iterable[Stay] = (),
) -> PdcResult | None:
    """The PDC of one class's ``fills`` over the period; ``None`` without a fill in it."""
    in_period = _in_period(fills, period_start, period_end)
    stays = list(stays)
    _check(in_period, stays)
    hospital = _merge((s.admitted.toordinal(), s.discharged.toordinal()) for s in stays)
    if not in_period:
        return None
    by_drug: dict[str, list[Fill]] = defaultdict(list)
    for f in in_period:
        by_drug[f.drug].append(f)
    covered: list[Interval] = []
    for drug_fills in by_drug.values():
        free = 0
        for f in drug_fills:
            placed, free = _place(max(f.filled_on.toordinal(), free), f.days_supply, hospital)
            covered += placed
    lo, hi = in_period[0].filled_on.toordinal(), period_end.toordinal() + 1
    in_hospital = _overlap(hospital, lo, hi)
    # Placement skips stays, so covered intervals never overlap one.
    return _result(in_period, period_end, _overlap(_merge(covered), lo, hi), hi - lo - in_hospital)


def pdc_by_days(
    fills: Iterable[Fill],
    *,
    period_start: date,
    period_end: date,
    stays: Iterable[Stay] = (),
) -> PdcResult | None:
    """The same rules read day by day: slow, plain, the reference for the tests."""
    in_period = _in_period(fills, period_start, period_end)
    if not in_period:
        return None
    hospital = {d for s in stays for d in range(s.admitted.toordinal(), s.discharged.toordinal())}
    covered: set[int] = set()
    for drug in {f.drug for f in in_period}:
        free = 0
        for f in (f for f in in_period if f.drug == drug):
            day, left = max(f.filled_on.toordinal(), free), f.days_supply
            while left > 0:
                if day not in hospital:
                    covered.add(day)
                    left -= 1
                day += 1
            free = day
    days = range(in_period[0].filled_on.toordinal(), period_end.toordinal() + 1)
    at_home = [d for d in days if d not in hospital]
    return _result(in_period, period_end, sum(1 for d in at_home if d in covered), len(at_home))
