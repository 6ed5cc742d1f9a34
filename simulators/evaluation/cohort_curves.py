"""The sensitivity / false-alert curves of a cohort run: one per pathway and event kind.

Simulated or de-identified data only. Each :class:`CurveSpec` names an event
kind, the pathway whose patients it is scored over, and the *knob* that moves
our detectors along the curve: the ``limit`` of that pathway's fused score
(``hub/pathways.toml``; a lower limit alerts sooner and more often).
Our curve is the default run (the pathway's own values) plus one run per knob
value, each over that pathway's patients only; every severity counts (an
alert on the worklist at ``low`` is on it). Two more points come from the
default run: the alerts a coordinator would see who looked only at
``medium`` and above, or ``high`` and above. For heart failure the 72 h
weight rule of thumb is run at 1.0-3.0 kg on the same readings, and the
headline ratio compares the two curves at an equal unexplained-alert rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hub.alerting import Severity
from simulators.evaluation.cohort_reader import Cohort
from simulators.evaluation.cohort_run import CohortRun, Overrides, run_cohort
from simulators.evaluation.eval_adherence import SCHEDULED_KINDS
from simulators.evaluation.evaluate import OURS, RULE
from streaming.alert_ledger import AlertRecord, fold
from streaming.alert_scoring import (
    Clock,
    CurvePoint,
    OutcomeEvent,
    RatioAt,
    ratios_at,
    score_alerts,
)

#: Rates (unexplained alerts per patient-year) the headline ratio is read at.
HEADLINE_RATES = (0.5, 1.5)


@dataclass(frozen=True, slots=True)
class CurveSpec:
    """One curve: an event kind over a pathway's patients, and our knob's values."""

    kind: str
    pathway: str
    knob: str
    values: tuple[float, ...]
    #: Whether the weight rule of thumb is drawn beside ours (heart failure).
    with_rule: bool = False


#: The curves `lastmile eval` draws.
CURVES = (
    CurveSpec(
        "decompensation",
        "CHF",
        "heart_failure.limit",
        (2.0, 3.0, 6.0, 9.0, 14.0),
        with_rule=True,
    ),
    CurveSpec("copd_exacerbation", "COPD", "respiratory.limit", (2.0, 3.0, 6.0, 9.0, 14.0)),
    CurveSpec("hypertensive_episode", "HTN", "pressure.limit", (2.0, 3.0, 6.0, 9.0, 14.0)),
)


@dataclass(frozen=True)
class Curve:
    """One drawn curve, with the ratios to the rule of thumb where it has one."""

    spec: CurveSpec
    points: list[CurvePoint]
    ratios: list[RatioAt]
    #: Our default point's rate (the pathway's own values).
    default_rate: float
    patients: int
    events: int
    years: float


def knob_runs(
    cohort: Cohort, spec: CurveSpec, *, extra: Sequence[Overrides] = ()
) -> list[tuple[Overrides, CohortRun]]:
    """One run over the spec's pathway per knob value (and per ``extra`` override set)."""
    mine = cohort.only_pathway(spec.pathway)
    sets: list[Overrides] = [{spec.knob: v} for v in spec.values]
    return [(o, run_cohort(mine, overrides=o)) for o in [*sets, *extra]]


def draw_curve(
    cohort: Cohort,
    spec: CurveSpec,
    events: Sequence[OutcomeEvent],
    run: CohortRun,
    points: Iterable[tuple[Overrides, CohortRun]],
    *,
    clock: Clock,
) -> Curve | None:
    """The curve of ``spec`` from the default ``run`` and the knob runs (None: no events)."""
    ids = {p.patient_id for p in cohort.patients if p.pathway == spec.pathway}
    years = sum(p.exposure_years for p in cohort.patients if p.pathway == spec.pathway)
    mine = [e for e in events if e.patient_id in ids]
    n = sum(1 for e in mine if e.kind == spec.kind)
    if n == 0 or years <= 0:
        return None

    def point(method: str, label: str, alerts: Iterable[AlertRecord]) -> CurvePoint:
        kept = [a for a in alerts if a.kind not in SCHEDULED_KINDS and a.patient_id in ids]
        card = score_alerts(method, kept, mine, patient_years=years, clock=clock)
        s = card.by_event_kind.get(spec.kind)
        return CurvePoint(
            method,
            label,
            s.sensitivity if s is not None else 0.0,
            card.unexplained_per_patient_year,
            s.median_lead_days if s is not None else None,
        )

    ours = [point(OURS, "pathway values", run.alerts)]
    ours += [point(OURS, label(o), r.alerts) for o, r in points]
    ours += [
        point(OURS, f"severity >= {s.value}", fold(run.entries, min_severity=s))
        for s in (Severity.MEDIUM, Severity.HIGH)
    ]
    theirs = (
        [point(RULE, f"rule {kg:g} kg", alerts) for kg, alerts in sorted(run.rule.items())]
        if spec.with_rule
        else []
    )
    default_rate = ours[0].unexplained_per_patient_year
    ratios = ratios_at(ours, theirs, sorted({*HEADLINE_RATES, default_rate})) if theirs else []
    return Curve(spec, ours + theirs, ratios, default_rate, len(ids), n, years)


def label(overrides: Mapping[str, float | int | str]) -> str:
    """``heart_failure.limit=6.0, spo2_low=86``."""
    return ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "pathway values"
