"""Score a cohort run on the cohort's own events: the table, the curve, the equal-rate ratio.

Simulated or de-identified data only. The alerts are the alert records of
:mod:`simulators.evaluation.cohort_run` (not detections grouped by a gap), scored with
:mod:`streaming.alert_scoring` on one clock (default: when the hub received
the reading that opened the alert).

- **The table**, per event kind, over the whole cohort: our alerts at every
  severity (an alert on the worklist at ``low`` is on the worklist), and the
  2 kg / 72 h weight rule of thumb. With the scheduled checks replayed, our
  column is also given without their alerts.
- **The curves** (:mod:`simulators.evaluation.cohort_curves`): per event kind over its
  pathway's patients (decompensation: CHF, with the rule of thumb at 1.0-3.0
  kg; COPD exacerbation: COPD; hypertensive episode: HTN), sensitivity
  against unexplained alerts per patient-year, scheduled-check alerts left
  out: our default point, the knob's runs, the lowest severity shown.
- **The headline ratio**: our sensitivity over the rule's, both read from
  their curves at the same unexplained-alert rate
  (:func:`streaming.alert_scoring.ratios_at`), at 0.5 and 1.5 per
  patient-year and at our default point's rate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.limits import overrides_on_top
from hub.pathways import get_pathway
from simulators.evaluation.cohort_curves import CURVES, Curve, draw_curve
from simulators.evaluation.cohort_reader import Cohort
from simulators.evaluation.cohort_run import CohortRun, Overrides
from simulators.evaluation.eval_adherence import SCHEDULED_KINDS
from simulators.evaluation.evaluate import OURS, RELEVANT, RULE
from simulators.gt_models import TruthKind
from streaming.alert_ledger import AlertRecord
from streaming.alert_scoring import AlertScorecard, Clock, OutcomeEvent, score_alerts

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
    #: One per :data:`~simulators.evaluation.cohort_curves.CURVES` entry with events
    #: (heart failure first).
    curves: list[Curve]
    clock: Clock
    notes: list[str] = field(default_factory=list)


def evaluate_cohort(
    cohort: Cohort,
    run: CohortRun,
    *,
    points: Mapping[str, Sequence[tuple[Overrides, CohortRun]]] | None = None,
    clock: Clock = "received",
    with_adherence: bool = False,
) -> CohortEvaluation:
    """Score ``run`` on the cohort's events, with the curves from the knob ``points``
    (runs per curve kind, see :func:`simulators.evaluation.cohort_curves.knob_runs`)."""
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
    curves: list[Curve] = []
    notes: list[str] = []
    for spec in CURVES:
        curve = draw_curve(
            cohort, spec, events, run, (points or {}).get(spec.kind, ()), clock=clock
        )
        if curve is None:
            notes.append(f"no {spec.kind} events of patients on the {spec.pathway} pathway")
        else:
            curves.append(curve)
    return CohortEvaluation(cards, curves, clock, notes)


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
        get_pathway(p.pathway).with_overrides(overrides_on_top(p.overrides, overrides))
