"""Run a ground-truth cohort through detectors in process and score them side by side.

Simulated data only. Readings go, in arrival order, to one monitor per patient
and method: our detectors (:class:`streaming.engine.PatientMonitor` with the
patient's pathway) and the weight rule of thumb
(:class:`streaming.rule_of_thumb.WeightRuleOfThumb`). The detections are
scored with :mod:`streaming.evaluation` against the cohort's ground truth, for
the whole cohort and for its CHF patients (the decompensation headline).

The sensitivity / false-alert curve varies each method's natural knob: the
rule's threshold (1-3 kg within 72 h), and for our detectors the lowest
severity that alerts (our monitor already reports a kind once per episode, so
counting confirmations would not move it).

Our detectors include the hub's scheduled non-adherence checks
(:mod:`simulators.evaluation.eval_adherence`: missed readings, frequency drop, device
never active), run every 6 h of simulated time on the facts received so far.
They are a different workload for coordinators, so the CHF decompensation
headline is also scored without them (:attr:`Evaluation.chf_without_adherence`)
and the curve, which trades decompensation sensitivity against unexplained
alerts, leaves them out: it stays comparable with the rule of thumb, which has
no adherence alerts.

Detections made elsewhere, e.g. by the real MQTT pipeline
(:mod:`simulators.evaluation.eval_pipeline`), are scored the same way and placed beside
ours with :func:`with_detections`.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from hub.alerting import (
    SEVERITY_ORDER,
    AlertKind,
    Detection,
    StreamReading,
    severity_rank,
)
from simulators.evaluation.eval_adherence import SCHEDULED_KINDS, AdherenceChecks, with_checks
from simulators.groundtruth import TruthCohort
from simulators.gt_models import GroundTruth, TruthEvent, TruthKind, TruthPatient
from simulators.models import Pathway
from streaming.evaluation import (
    EPISODE_GAP,
    Matching,
    Scorecard,
    TruthWindow,
    alert_episodes,
    score,
)
from streaming.rule_of_thumb import SOURCE, WeightRuleOfThumb
from streaming.service import Monitor

OURS = "detectors"
RULE = "rule of thumb"
PIPELINE = "detectors (pipeline)"
_ADHERENCE = frozenset(
    {AlertKind.MISSED_READINGS, AlertKind.FREQUENCY_DROP, AlertKind.GATEWAY_OFFLINE}
)
#: Which alert kinds catch which event.
RELEVANT: Mapping[TruthKind, frozenset[AlertKind]] = {
    TruthKind.DECOMPENSATION: frozenset(
        {
            AlertKind.WEIGHT_GAIN,
            AlertKind.HR_HIGH,
            AlertKind.SPO2_DROP,
            AlertKind.SPO2_LOW,
            AlertKind.RESPIRATORY_DECLINE,
        }
    ),
    TruthKind.COPD_EXACERBATION: frozenset(
        {AlertKind.SPO2_DROP, AlertKind.SPO2_LOW, AlertKind.HR_HIGH, AlertKind.RESPIRATORY_DECLINE}
    ),
    TruthKind.HYPERTENSIVE_EPISODE: frozenset({AlertKind.BP_HIGH}),
    TruthKind.NON_ADHERENCE: _ADHERENCE,
    TruthKind.DROPOUT: _ADHERENCE,
}
#: Operating points of our detectors on the curve: the lowest severity that alerts.
SEVERITY_STEPS = SEVERITY_ORDER
#: Extra rule-of-thumb thresholds run for the curve (kg within 72 h).
RULE_THRESHOLDS = (1.0, 1.5, 2.5, 3.0)


MonitorFactory = Callable[[TruthPatient], Monitor]


def rule_factory(gain_kg: float = 2.0) -> MonitorFactory:
    source = SOURCE if gain_kg == 2.0 else f"rule:rule_of_thumb_{gain_kg:g}kg_72h"
    return lambda _patient: WeightRuleOfThumb(gain_kg=gain_kg, source=source)


def engine_factory() -> MonitorFactory:
    """Our detectors: a :class:`~streaming.engine.PatientMonitor` on the patient's pathway."""
    from hub.pathways import get_pathway
    from streaming.engine import PatientMonitor

    pathways = {p: get_pathway(p.value) for p in Pathway}
    return lambda patient: PatientMonitor(patient.patient_id, pathways[patient.pathway])


def run_methods(
    readings: Iterable[StreamReading],
    patients: Sequence[TruthPatient],
    methods: Mapping[str, MonitorFactory],
) -> dict[str, list[Detection]]:
    """Feed every reading (in the order given) to each method's monitor of its patient."""
    by_id = {p.patient_id: p for p in patients}
    monitors: dict[str, dict[UUID, Monitor]] = {m: {} for m in methods}
    found: dict[str, list[Detection]] = {m: [] for m in methods}
    for r in readings:
        for name, factory in methods.items():
            mine = monitors[name]
            monitor = mine.get(r.patient_id)
            if monitor is None:
                monitor = mine[r.patient_id] = factory(by_id[r.patient_id])
            found[name].extend(monitor.process(r))
            monitor.pop_closures()  # scored by detections only; keeps the state small
    return found


def truth_windows(truth: GroundTruth) -> list[TruthWindow]:
    """The scored events of a ground truth (confounders explain nothing and are left out)."""
    return [_window(e) for e in truth.events if e.kind in RELEVANT]


def _window(e: TruthEvent) -> TruthWindow:
    until = max(e.event_time, e.returns_at or e.event_time)
    p = e.params
    extra = p.get("recovery_days", 0.0) + p.get("hold_days", 0.0) + p.get("resolve_days", 0.0)
    if e.kind is TruthKind.COPD_EXACERBATION:
        extra -= p.get("absence_days", 0.0)  # recovery counts from the event
    until += timedelta(days=max(extra, 0.0) + 1.0)
    matching = Matching.LEAD if e.kind.deterioration else Matching.DURING
    return TruthWindow(
        e.patient_id, e.kind.value, e.onset, e.event_time, until, RELEVANT[e.kind], matching
    )


@dataclass(frozen=True, slots=True)
class CurvePoint:
    method: str
    label: str
    sensitivity: float
    unexplained_per_patient_year: float
    median_lead_days: float | None


@dataclass(frozen=True)
class Evaluation:
    """The scorecards (whole cohort, CHF only), the curve and the run's timings.

    ``chf_without_adherence`` is our CHF scorecard without the scheduled
    non-adherence alerts; ``seconds_adherence`` is the part of
    ``seconds_detect`` spent in the scheduled checks.
    """

    cohort: list[Scorecard]
    chf: list[Scorecard]
    curve: list[CurvePoint]
    detections: dict[str, list[Detection]]
    windows: list[TruthWindow]
    n_readings: int
    seconds_generate: float
    seconds_detect: float
    seconds_score: float
    chf_without_adherence: Scorecard | None = None
    seconds_adherence: float = 0.0
    scheduled_detections: int = 0


def _subset(detections: Iterable[Detection], keep: set[UUID]) -> list[Detection]:
    return [d for d in detections if d.patient_id in keep]


def without_adherence(detections: Iterable[Detection]) -> list[Detection]:
    """``detections`` without the kinds of the scheduled non-adherence checks."""
    return [d for d in detections if d.kind not in SCHEDULED_KINDS]


def adherence_checks(cohort: TruthCohort) -> AdherenceChecks:
    """The hub's scheduled checks over ``cohort``'s patients, until its end."""
    ids = {p.patient_id: cohort.profiles[p.index].device_ids for p in cohort.patients}
    later = {
        d.device_id: d.active_from
        for p in cohort.patients
        for d in cohort.devices(p.index)
        if d.active_from > p.start
    }
    return AdherenceChecks(cohort.patients, ids, end=cohort.truth.end, assigned_at=later)


def evaluate(
    cohort: TruthCohort,
    *,
    with_engine: bool = True,
    gap: timedelta = EPISODE_GAP,
    seconds_generate: float = 0.0,
) -> Evaluation:
    """Run both methods over ``cohort`` and score them (ours with the scheduled checks)."""
    methods: dict[str, MonitorFactory] = {}
    if with_engine:
        methods[OURS] = engine_factory()
    methods[RULE] = rule_factory()
    for kg in RULE_THRESHOLDS:
        methods[f"rule {kg:g} kg"] = rule_factory(kg)
    t0 = time.perf_counter()
    checks = adherence_checks(cohort) if with_engine else None
    readings = cohort.readings()
    found = run_methods(
        readings if checks is None else with_checks(readings, checks), cohort.patients, methods
    )
    scheduled = [] if checks is None else checks.finish()
    if OURS in found:
        found[OURS] = [*found[OURS], *scheduled]
    t1 = time.perf_counter()
    truth = cohort.truth
    windows = truth_windows(truth)
    chf_ids = {p.patient_id for p in truth.patients if p.pathway is Pathway.CHF}
    chf_years = sum(p.exposure_years for p in truth.patients if p.pathway is Pathway.CHF)
    chf_windows = [w for w in windows if w.patient_id in chf_ids]
    main = [m for m in (OURS, RULE) if m in found]
    cards = [score(m, found[m], windows, patient_years=truth.patient_years, gap=gap) for m in main]
    chf_cards = [
        score(m, _subset(found[m], chf_ids), chf_windows, patient_years=chf_years, gap=gap)
        for m in main
    ]
    clinical = (
        score(
            OURS,
            without_adherence(_subset(found[OURS], chf_ids)),
            chf_windows,
            patient_years=chf_years,
            gap=gap,
        )
        if OURS in found
        else None
    )
    curve: list[CurvePoint] = []
    for name, ds in found.items():
        mine = without_adherence(_subset(ds, chf_ids))
        if name == OURS:
            points = [
                (
                    f"severity >= {sev.value}",
                    [d for d in mine if severity_rank(d.severity) >= severity_rank(sev)],
                )
                for sev in SEVERITY_STEPS
            ]
        else:
            points = [(name, mine)]
        for label, kept in points:
            card = score(name, kept, chf_windows, patient_years=chf_years, gap=gap)
            s = card.by_event_kind.get(TruthKind.DECOMPENSATION.value)
            curve.append(
                CurvePoint(
                    method=OURS if name == OURS else RULE,
                    label=label if name != RULE else "rule 2 kg",
                    sensitivity=s.sensitivity if s is not None else 0.0,
                    unexplained_per_patient_year=card.unexplained_per_patient_year,
                    median_lead_days=s.median_days if s is not None else None,
                )
            )
    t2 = time.perf_counter()
    return Evaluation(
        cohort=cards,
        chf=chf_cards,
        curve=curve,
        detections={m: found[m] for m in main},
        windows=windows,
        n_readings=cohort.n_readings,
        seconds_generate=seconds_generate,
        seconds_detect=t1 - t0,
        seconds_score=t2 - t1,
        chf_without_adherence=clinical,
        seconds_adherence=0.0 if checks is None else checks.seconds,
        scheduled_detections=len(scheduled),
    )


def with_detections(
    evaluation: Evaluation,
    cohort: TruthCohort,
    detections: Sequence[Detection],
    *,
    method: str = PIPELINE,
    gap: timedelta = EPISODE_GAP,
) -> Evaluation:
    """``evaluation`` with ``detections`` made elsewhere scored as one more method.

    The scorecards (whole cohort, CHF only) go right after our in-process
    detectors; the curve and the timings are left as they are.
    """
    truth = cohort.truth
    chf_ids = {p.patient_id for p in truth.patients if p.pathway is Pathway.CHF}
    chf_years = sum(p.exposure_years for p in truth.patients if p.pathway is Pathway.CHF)
    chf_windows = [w for w in evaluation.windows if w.patient_id in chf_ids]
    ds = list(detections)
    card = score(method, ds, evaluation.windows, patient_years=truth.patient_years, gap=gap)
    chf_card = score(method, _subset(ds, chf_ids), chf_windows, patient_years=chf_years, gap=gap)
    at = 1 if evaluation.cohort and evaluation.cohort[0].method == OURS else 0
    return dataclasses.replace(
        evaluation,
        cohort=[*evaluation.cohort[:at], card, *evaluation.cohort[at:]],
        chf=[*evaluation.chf[:at], chf_card, *evaluation.chf[at:]],
        detections={**evaluation.detections, method: ds},
    )


#: How much later than measured the in-process replay for the pipeline
#: comparison receives each reading: past every pathway's ``stale_after_hours``,
#: as in the pipeline, which replays months-old readings.
LATE_SHIFT = timedelta(days=365)


def late_replay(cohort: TruthCohort) -> list[Detection]:
    """Our detections in process with every reading received :data:`LATE_SHIFT` late.

    The pipeline receives the simulated history months after it was measured,
    so the hub reports everything ``:late`` and one severity lower; this is
    the in-process run it must equal.
    """
    readings = (
        dataclasses.replace(r, received_at=r.received_at + LATE_SHIFT) for r in cohort.readings()
    )
    return run_methods(readings, cohort.patients, {OURS: engine_factory()})[OURS]


@dataclass(frozen=True, slots=True)
class EpisodeDiff:
    """Alert episodes of two runs, matched on (patient, kind, start, end)."""

    same: int
    only_first: int
    only_second: int
    pairs: int  # (patient, kind) with any episode
    pairs_differing: int


def compare_episodes(
    first: Iterable[Detection], second: Iterable[Detection], *, gap: timedelta = EPISODE_GAP
) -> EpisodeDiff:
    """How the alert episodes per (patient, kind) of two sets of detections differ."""

    def keyed(ds: Iterable[Detection]) -> Counter[tuple[UUID, AlertKind, datetime, datetime]]:
        return Counter((e.patient_id, e.kind, e.start, e.end) for e in alert_episodes(ds, gap=gap))

    a, b = keyed(first), keyed(second)
    only_a, only_b = a - b, b - a
    pairs = {(k[0], k[1]) for k in (a | b)}
    differing = {(k[0], k[1]) for k in (only_a | only_b)}
    return EpisodeDiff(
        same=sum((a & b).values()),
        only_first=sum(only_a.values()),
        only_second=sum(only_b.values()),
        pairs=len(pairs),
        pairs_differing=len(differing),
    )
