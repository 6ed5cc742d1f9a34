"""Score a cohort run on the cohort's own events: the table, the curve, the equal-rate ratio.

Simulated or de-identified data only. The alerts are the alert records of
:mod:`simulators.cohort_run` (not detections grouped by a gap), scored with
:mod:`streaming.alert_scoring` on one clock (default: when the hub received
the reading that opened the alert).

- **The table**, per event kind, over the whole cohort: our alerts at every
  severity (an alert on the worklist at ``low`` is on the worklist), and the
  2 kg / 72 h weight rule of thumb. With the scheduled checks replayed, our
  column is also given without their alerts.
- **The curve**: decompensation sensitivity against unexplained alerts per
  patient-year, over the patients on the CHF pathway (the rule of thumb is a
  heart-failure tool), scheduled-check alerts left out. Our operating points:
  the lowest severity shown (``severity >= low`` is the default point, then
  ``medium``, ``high``, ``critical``: one run), and one run per set of pathway
  overrides asked for (``Pathway.with_overrides`` keys, every severity). The
  rule's: 1.0, 1.5, 2.0, 2.5 and 3.0 kg within 72 h.
- **The headline ratio**: our sensitivity over the rule's, both read from
  their curves at the same unexplained-alert rate
  (:func:`streaming.alert_scoring.ratios_at`), at 0.5 and 1.5 per
  patient-year and at our default point's rate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from simulators.cohort_reader import Cohort
from simulators.cohort_run import CohortRun, Overrides
from simulators.eval_adherence import SCHEDULED_KINDS
from simulators.evaluate import OURS, RELEVANT, RULE
from simulators.gt_models import TruthKind
from streaming.alert_ledger import AlertRecord, fold
from streaming.alert_scoring import (
    AlertScorecard,
    Clock,
    CurvePoint,
    OutcomeEvent,
    RatioAt,
    ratios_at,
    score_alerts,
)
from streaming.models import SEVERITY_ORDER, Severity
from streaming.pathways import get_pathway

#: The event kind and pathway of the curve.
CURVE_KIND = TruthKind.DECOMPENSATION.value
CURVE_PATHWAY = "CHF"
#: Rates (unexplained alerts per patient-year) the headline ratio is read at.
HEADLINE_RATES = (0.5, 1.5)
#: The rule of thumb's threshold in the table.
TABLE_RULE_KG = 2.0
WITHOUT_SCHEDULED = f"{OURS}, without scheduled checks"


def outcome_events(cohort: Cohort) -> list[OutcomeEvent]:
    """The cohort's events as the scoring sees them (alert kinds relevant to each kind)."""
    return [
        OutcomeEvent(
            e.patient.patient_id,
            e.kind,
            e.admission,
            RELEVANT[TruthKind(e.kind)],
            onset=e.onset,
            gain_kg=e.gain_kg,
        )
        for e in cohort.events
    ]


def without_scheduled(alerts: Iterable[AlertRecord]) -> list[AlertRecord]:
    return [a for a in alerts if a.kind not in SCHEDULED_KINDS]


def overrides_label(overrides: Overrides) -> str:
    """``weight_gain_short_kg=2.5, spo2_low=86``."""
    return ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "pathway values"


@dataclass(frozen=True)
class CohortEvaluation:
    cards: list[AlertScorecard]
    curve: list[CurvePoint]
    ratios: list[RatioAt]
    #: Our default point's rate (severity >= low, pathway values), if it has a curve.
    default_rate: float | None
    curve_patients: int
    curve_events: int
    curve_years: float
    clock: Clock
    notes: list[str] = field(default_factory=list)


def evaluate_cohort(
    cohort: Cohort,
    run: CohortRun,
    *,
    points: Sequence[tuple[Overrides, CohortRun]] = (),
    clock: Clock = "received",
    with_adherence: bool = False,
) -> CohortEvaluation:
    """Score ``run`` (and the runs of the override ``points``) on the cohort's events."""
    events = outcome_events(cohort)
    years = cohort.patient_years
    rule = run.rule.get(TABLE_RULE_KG, [])
    cards = [score_alerts(OURS, run.alerts, events, patient_years=years, clock=clock)]
    if with_adherence:
        mine = without_scheduled(run.alerts)
        cards.append(
            score_alerts(WITHOUT_SCHEDULED, mine, events, patient_years=years, clock=clock)
        )
    cards.append(score_alerts(f"{RULE} 2 kg", rule, events, patient_years=years, clock=clock))
    chf = {p.patient_id for p in cohort.patients if p.pathway == CURVE_PATHWAY}
    chf_years = sum(p.exposure_years for p in cohort.patients if p.pathway == CURVE_PATHWAY)
    chf_events = [e for e in events if e.patient_id in chf]
    n_curve = sum(1 for e in chf_events if e.kind == CURVE_KIND)

    def point(method: str, label: str, alerts: Iterable[AlertRecord]) -> CurvePoint:
        kept = [a for a in without_scheduled(alerts) if a.patient_id in chf]
        card = score_alerts(method, kept, chf_events, patient_years=chf_years, clock=clock)
        s = card.by_event_kind.get(CURVE_KIND)
        return CurvePoint(
            method,
            label,
            s.sensitivity if s is not None else 0.0,
            card.unexplained_per_patient_year,
            s.median_lead_days if s is not None else None,
        )

    curve: list[CurvePoint] = []
    notes: list[str] = []
    if n_curve == 0 or chf_years <= 0:
        notes.append(f"no {CURVE_KIND} events of patients on the {CURVE_PATHWAY} pathway: no curve")
        return CohortEvaluation(cards, [], [], None, len(chf), 0, chf_years, clock, notes)
    curve += [point(OURS, f"severity >= {s.value}", _at_least(run, s)) for s in SEVERITY_ORDER]
    curve += [point(OURS, overrides_label(o), r.alerts) for o, r in points]
    curve += [point(RULE, f"rule {kg:g} kg", alerts) for kg, alerts in sorted(run.rule.items())]
    default_rate = curve[0].unexplained_per_patient_year
    ours = [p for p in curve if p.method == OURS]
    theirs = [p for p in curve if p.method == RULE]
    rates = sorted({*HEADLINE_RATES, default_rate})
    ratios = ratios_at(ours, theirs, rates)
    return CohortEvaluation(
        cards, curve, ratios, default_rate, len(chf), n_curve, chf_years, clock, notes
    )


def _at_least(run: CohortRun, severity: Severity) -> list[AlertRecord]:
    if severity is Severity.LOW:
        return run.alerts
    return fold(run.entries, min_severity=severity)


def parse_operating_point(text: str) -> dict[str, float | int | str]:
    """One ``--operating-point``: a JSON object of pathway overrides.

    >>> parse_operating_point('{"weight_gain_short_kg": 2.5}')
    {'weight_gain_short_kg': 2.5}
    """
    value = json.loads(text)
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in value.values()
    ):
        msg = 'an operating point is a JSON object of overrides, e.g. {"spo2_low": 86}'
        raise ValueError(msg)
    return {str(k): v for k, v in value.items()}


def check_overrides(cohort: Cohort, overrides: Mapping[str, float | int | str]) -> None:
    """Raise :class:`~streaming.exceptions.PathwayError` if any patient's pathway refuses them.

    (The hub's factory would log the refusal and use the pathway's own values.)
    """
    for p in cohort.patients:
        get_pathway(p.pathway).with_overrides({**p.overrides, **overrides})
