"""Medication adherence from fills: refills overdue, and a PDC below its class's threshold.

Pure: the caller passes a patient's classified fills and ``today``.

* **Refill overdue** (per drug class): the class's supply runs out on the
  day after the last day any of its drugs covers (early refills of one drug
  shift, as in PDC, so an early refill is not lost). When ``today`` is more
  than ``grace_days`` past that day, the class is overdue. A switch between
  drugs of one class is not a gap. ``medium``.
* **Low PDC** (per class): the PQA PDC over the last ``PERIOD_DAYS`` days,
  once eligible, below the class's threshold. ``low``.

>>> from datetime import date
>>> from uuid import UUID
>>> fills = [ClassFill("furosemide", frozenset({"loop_diuretics"}), date(2026, 1, 1), 30)]
>>> [(d.kind.value, d.observed["days_without_supply"])  # ran out 31 Jan
...  for d in refill_detections(UUID(int=1), fills, today=date(2026, 2, 9))]
[('refill_overdue', 9)]
>>> refill_detections(UUID(int=1), fills, today=date(2026, 2, 7))  # within the grace
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection, Severity
from hub.medications import drug_classes
from streaming.pdc import Fill, PdcResult, pdc

#: Days after a class's supply runs out before its refill is overdue.
DEFAULT_GRACE_DAYS = 7
#: The PDC measurement period: this many days up to today.
PERIOD_DAYS = 365


@dataclass(frozen=True, slots=True)
class ClassFill:
    """A fill with the drug classes of its medication."""

    drug: str
    classes: frozenset[str]
    filled_on: date
    days_supply: int


def run_out(fills: Sequence[Fill]) -> date | None:
    """The first day no drug among ``fills`` covers, after same-drug shifting."""
    free: dict[str, int] = {}
    end = 0
    for f in sorted(fills, key=lambda f: (f.filled_on, f.drug)):
        start = max(f.filled_on.toordinal(), free.get(f.drug, 0))
        free[f.drug] = start + f.days_supply
        end = max(end, free[f.drug])
    return date.fromordinal(end) if end else None


def _by_class(fills: Sequence[ClassFill]) -> dict[str, list[Fill]]:
    by_class: dict[str, list[Fill]] = defaultdict(list)
    for f in fills:
        for c in f.classes:
            by_class[c].append(Fill(f.drug, f.filled_on, f.days_supply))
    return by_class


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def refill_detections(
    patient_id: UUID,
    fills: Sequence[ClassFill],
    *,
    today: date,
    grace_days: int = DEFAULT_GRACE_DAYS,
    open_alerts: Mapping[AlertKind, str] | None = None,
) -> list[Detection]:
    """Overdue classes and classes with a low PDC, most severe first.

    ``open_alerts`` are the patient's unresolved deterioration alerts (kind
    → reason). An overdue class that bears on one of them (the class's
    ``relevant`` kinds: no loop diuretic while weight climbs) is ``high``,
    and its reason carries the other alert's.
    """
    open_alerts, known = open_alerts or {}, drug_classes()
    out: list[Detection] = []
    low: list[Detection] = []
    for c in class_summaries(fills, today=today, grace_days=grace_days):
        if c.overdue:
            late = (today - c.runs_out).days
            linked = sorted(k for k in known[c.name].relevant if k in open_alerts)
            also = "".join(f" With the open {k.value} alert: {open_alerts[k]}" for k in linked)
            out.append(
                Detection(
                    patient_id=patient_id,
                    kind=AlertKind.REFILL_OVERDUE,
                    severity=Severity.HIGH if linked else Severity.MEDIUM,
                    source="rule:refill_overdue",
                    measure=None,
                    observed={"days_without_supply": late, "last_days_supply": c.last_days_supply},
                    baseline={"grace_days": grace_days},
                    window_start=_midnight(c.last_filled_on),
                    window_end=_midnight(today),
                    reason=f"{c.label}: {c.last_drug} last filled {c.last_filled_on} for "
                    f"{c.last_days_supply} days ran out on {c.runs_out}: {late} days without "
                    f"supply (grace {grace_days}).{also}",
                )
            )
        result = c.pdc
        if result is not None and result.adherent(c.threshold) is False:
            low.append(
                Detection(
                    patient_id=patient_id,
                    kind=AlertKind.LOW_PDC,
                    severity=Severity.LOW,
                    source="rule:pdc",
                    measure=None,
                    observed={"pdc": round(result.pdc, 3), "covered_days": result.covered_days},
                    baseline={"threshold": c.threshold, "period_days": result.period_days},
                    window_start=_midnight(result.index_date),
                    window_end=_midnight(today),
                    reason=f"{c.label}: {result.covered_days} of {result.period_days} days "
                    f"covered since {result.index_date} (PDC {result.pdc:.0%}, adherent from "
                    f"{c.threshold:.0%}).",
                )
            )
    out.sort(key=lambda d: d.severity is not Severity.HIGH)
    return out + low


@dataclass(frozen=True, slots=True)
class ClassSummary:
    """Where a patient stands with one drug class (for the adherence API)."""

    name: str
    label: str
    threshold: float
    pdc: PdcResult | None
    last_drug: str
    last_filled_on: date
    last_days_supply: int
    runs_out: date  # the first day without supply: the next refill is due by then
    overdue: bool


def class_summaries(
    fills: Sequence[ClassFill], *, today: date, grace_days: int = DEFAULT_GRACE_DAYS
) -> list[ClassSummary]:
    """Each known class the patient has fills of, by name."""
    by_class, known = _by_class(fills), drug_classes()
    out = []
    for name in sorted(set(by_class) & set(known)):
        cls, class_fills = known[name], by_class[name]
        last = max(class_fills, key=lambda f: (f.filled_on, f.drug))
        ends = run_out(class_fills)
        start = today - timedelta(days=PERIOD_DAYS - 1)
        out.append(
            ClassSummary(
                name=name,
                label=cls.label,
                threshold=cls.pdc_threshold,
                pdc=pdc(class_fills, period_start=start, period_end=today),
                last_drug=last.drug,
                last_filled_on=last.filled_on,
                last_days_supply=last.days_supply,
                runs_out=ends or last.filled_on,
                overdue=ends is not None and (today - ends).days > grace_days,
            )
        )
    return out
