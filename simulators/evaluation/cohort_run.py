"""Run a cohort read from a file through the hub's detectors, as the hub would.

Simulated or de-identified data only. The readings
(:meth:`simulators.evaluation.cohort_reader.Cohort.readings`: validated, normalised,
duplicates dropped, in arrival order) go one at a time to the patient's
monitor, built by the ingest worker's own factory
(:func:`streaming.service.default_monitor_cache`: pathway, time zone and
threshold overrides). What each reading shows is folded into the alert table
as the hub keeps it (:class:`streaming.alert_ledger.AlertLedger`): its
detections, then the closures the monitor reports
(:meth:`~streaming.engine.PatientMonitor.pop_closures`), each of which
resolves its alert automatically; as in the hub, a resolution is passed back
to the monitor (``resolve``: for a closure the monitor raised itself, a
no-op).

The same pass feeds the weight rule of thumb at each threshold asked for
(:class:`streaming.rule_of_thumb.WeightRuleOfThumb`, one per patient), whose
firings are grouped into alerts as before (3 days).

With ``with_adherence`` the hub's scheduled non-adherence checks are
replayed too (:class:`simulators.evaluation.eval_adherence.AdherenceChecks`, every 6 h
of cohort time, an alert resolved once its condition clears, one severity
higher within the pathway's post-discharge days of ``discharged``; no
gateway presence); their alerts after a patient's ``until`` are dropped.
They are off by default: the deterioration engine is what the evaluation
judges.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock_time
from uuid import UUID

from hub.alerting import Closure, Detection, StreamReading
from hub.limits import overrides_on_top
from simulators.evaluation.cohort_reader import Cohort, CohortPatient
from simulators.evaluation.eval_adherence import AdherenceChecks, with_checks
from simulators.gt_models import TruthPatient
from simulators.models import Pathway as SimPathway
from streaming.alert_ledger import AlertLedger, AlertRecord, Entry, Stamp, group_firings
from streaming.rule_of_thumb import SOURCE, WeightRuleOfThumb
from streaming.service import Enrolment, Monitor, MonitorFactory, default_monitor_cache

#: The weight rule of thumb's thresholds on the curve (kg within 72 h).
RULE_THRESHOLDS = (1.0, 1.5, 2.0, 2.5, 3.0)
Overrides = Mapping[str, float | int | str]


def hub_factory() -> MonitorFactory:
    """The ingest worker's monitor factory (pathway, time zone, threshold overrides).

    Taken from :func:`~streaming.service.default_monitor_cache` itself, so the
    evaluation builds monitors exactly as the hub does.
    """
    return default_monitor_cache().factory


@dataclass(frozen=True)
class CohortRun:
    """What one pass over a cohort found.

    ``entries`` are the engine's detections and closures (and the scheduled
    checks', if replayed) with the reading behind each, in the order the hub
    would record them; ``alerts`` is their fold; ``rule`` maps each rule
    threshold (kg) to its alerts.
    """

    entries: list[Entry]
    alerts: list[AlertRecord]
    rule: dict[float, list[AlertRecord]]
    readings: int
    seconds: float
    seconds_adherence: float = 0.0


def rule_source(kg: float) -> str:
    return SOURCE if kg == 2.0 else f"rule:rule_of_thumb_{kg:g}kg_72h"


def run_cohort(
    cohort: Cohort,
    *,
    overrides: Overrides | None = None,
    rule_thresholds: Sequence[float] = (),
    with_engine: bool = True,
    with_adherence: bool = False,
    factory: MonitorFactory | None = None,
) -> CohortRun:
    """Run the cohort's readings through the engine (with ``overrides`` on top of each
    patient's own) and the rule at ``rule_thresholds``; see the module docstring."""
    make = factory or hub_factory()
    patients = {p.patient_id: p for p in cohort.patients}
    enrolments = {
        p.patient_id: Enrolment(p.pathway, p.timezone, overrides_on_top(p.overrides, overrides))
        for p in cohort.patients
    }
    monitors: dict[UUID, Monitor] = {}
    rules: dict[float, dict[UUID, WeightRuleOfThumb]] = {kg: {} for kg in rule_thresholds}
    firings: dict[float, list[tuple[Detection, Stamp]]] = {kg: [] for kg in rule_thresholds}
    ledger = AlertLedger()
    entries: list[Entry] = []
    checks = _adherence(cohort) if with_adherence else None
    t0 = time.perf_counter()
    n = 0
    readings: Iterator[StreamReading] = cohort.readings()
    if checks is not None:
        readings = with_checks(readings, checks)
    for r in readings:
        n += 1
        pid = r.patient_id
        stamp: Stamp | None = None
        if with_engine:
            monitor = monitors.get(pid)
            if monitor is None:
                monitor = monitors[pid] = make(pid, enrolments[pid])
            found = monitor.process(r)
            if found:
                stamp = Stamp(r.measured_at, r.received_at)
                for d in found:
                    entries.append((d, stamp))
                    ledger.detection(d, stamp)
            closures = monitor.pop_closures()
            if closures:
                stamp = stamp or Stamp(r.measured_at, r.received_at)
                for c in closures:
                    entries.append((c, stamp))
                    if ledger.closure(c, stamp) is not None:
                        monitor.resolve(c.kind)
        for kg, mine in rules.items():
            rule = mine.get(pid)
            if rule is None:
                rule = mine[pid] = WeightRuleOfThumb(gain_kg=kg, source=rule_source(kg))
            fired = rule.update(r)
            if fired is not None:
                firings[kg].append((fired, stamp or Stamp(r.measured_at, r.received_at)))
    seconds_adherence = 0.0
    if checks is not None:
        checks.finish()
        seconds_adherence = checks.seconds
        for item, stamp in _scheduled(checks, patients):
            entries.append((item, stamp))
            if isinstance(item, Closure):
                ledger.closure(item, stamp)
            else:
                ledger.detection(item, stamp)
    return CohortRun(
        entries=entries,
        alerts=ledger.records(),
        rule={kg: group_firings(fs) for kg, fs in firings.items()},
        readings=n,
        seconds=time.perf_counter() - t0,
        seconds_adherence=seconds_adherence,
    )


def _adherence(cohort: Cohort) -> AdherenceChecks:
    patients = [_truth_patient(p) for p in cohort.patients]
    ids = {p.patient_id: p.device_ids for p in cohort.patients}
    end = max((p.until for p in cohort.patients), default=datetime.min.replace(tzinfo=UTC))
    # The hub keeps the discharge date, and counts from its midnight (UTC).
    discharged = {
        p.patient_id: datetime.combine(p.discharged.astimezone(UTC).date(), clock_time(), UTC)
        for p in cohort.patients
        if p.discharged is not None
    }
    return AdherenceChecks(patients, ids, end=end, discharged=discharged)


def _truth_patient(p: CohortPatient) -> TruthPatient:
    """The patient as :class:`AdherenceChecks` reads it (pathway, enrolment, id)."""
    return TruthPatient(p.index, p.patient_id, SimPathway(p.pathway), (), p.enrolled, p.until, {})


def _scheduled(
    checks: AdherenceChecks, patients: Mapping[UUID, CohortPatient]
) -> Iterable[tuple[Detection | Closure, Stamp]]:
    """The checks' detections and closures in time order, within each patient's follow-up.

    A closure comes before a detection of the same instant (a check pops what
    cleared before it records what it found).
    """
    items: list[tuple[datetime, int, int, Detection | Closure]] = [
        (c.at, 0, i, c) for i, c in enumerate(checks.closures)
    ]
    items += [(d.window_end, 1, i, d) for i, d in enumerate(checks.detections)]
    items.sort(key=lambda item: item[:3])
    for at, _, _, item in items:
        if at <= patients[item.patient_id].until:
            yield item, Stamp(at, at)
