"""The hub's non-adherence checks, replayed in simulated time for the evaluation.

Simulated data only. In the hub, missed readings, frequency drops and devices
never activated are not found by the per-reading engine but by a pass
(:mod:`flows.schedule`) that gathers facts from the database and calls
the pure :func:`streaming.adherence.check_adherence`: on a schedule, for
everyone, and on arrival, for the patients whose readings a batch stored (at
most every :data:`ARRIVAL_EVERY` per patient). Here the same function runs at
simulated check ticks and as each reading arrives, while the cohort's
readings stream by in arrival order, with facts kept up to date
incrementally from the readings *received* so far:

- last measurement time per measure (the hub's ``measure_latest``);
- readings per measure in the recent / previous windows of
  :func:`~streaming.adherence.frequency_windows` (by measurement time);
- each device's first reading (the hub activates a device when its first
  batch arrives, at the batch's reception time);
- enrolment = the patient's start in the ground truth; discharge = none (the
  ground truth has no discharge date, so no post-discharge escalation),
  unless ``discharged`` gives one (a cohort file's patients);
- a device assigned later (a scale that replaced another) counts from its
  assignment (``assigned_at``), as the hub counts from the device's registration.

Choices, where the replay departs from the live hub:

- **Ticks every 6 hours** of simulated time (:data:`CHECK_EVERY`) instead of
  every 5 minutes: a detection is found up to 6 h later than in the hub, which
  is small next to the 36 h allowance of a daily measure; the count of
  episodes is unchanged, since an open alert suppresses repeats either way.
- **De-duplication as in the hub**: a detection is recorded only when no
  unresolved alert of its kind is open for the patient, or when it raises that
  alert's severity. Coordinators resolve alerts in the hub; here an alert kind
  of a patient counts as **resolved once the condition clears**, i.e. the first
  tick whose check no longer returns that kind.
- Checks run for every patient until the end of the cohort: nobody knows in
  the hub that a patient dropped out, so a drop-out is caught like any gap
  (the ground truth's drop-out window gives the credit).
- ``gateway_offline`` comes from a gateway's MQTT Last Will, which the
  in-process run has no gateways for; it is not raised here.

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from hub.domain import DeviceKind, Measure
>>> from simulators.gt_models import TruthPatient
>>> from simulators.models import Pathway
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> p = TruthPatient(0, UUID(int=1), Pathway.HTN, (DeviceKind.BP_CUFF,), t0,
...                  t0 + timedelta(days=10), {})
>>> checks = AdherenceChecks([p], {p.patient_id: (1,)}, end=t0 + timedelta(days=10))
>>> found = checks.finish()  # not one reading in ten days
>>> [(d.kind.value, (d.window_end - t0) / timedelta(hours=1)) for d in found]
[('missed_readings', 78.0), ('device_never_active', 78.0)]
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from alerts.service import raises_evidence
from hub.alerting import AlertKind, Closure, Detection, Severity, StreamReading
from hub.domain import Measure
from hub.pathways import Pathway, get_pathway
from simulators.gt_models import TruthPatient
from streaming.adherence import DeviceActivity, MeasureActivity, check_adherence, frequency_windows

#: Simulated time between two scheduled passes (the hub: every 5 minutes).
CHECK_EVERY = timedelta(hours=6)
#: A patient's checks on arrival run at most this often (the hub: the
#: adherence interval, 5 minutes, of the worker's clock).
ARRIVAL_EVERY = timedelta(minutes=5)
#: The kinds the scheduled pass raises (and the evaluation may leave out).
SCHEDULED_KINDS = frozenset(
    {
        AlertKind.MISSED_READINGS,
        AlertKind.FREQUENCY_DROP,
        AlertKind.DEVICE_NEVER_ACTIVE,
        AlertKind.GATEWAY_OFFLINE,
    }
)

#: The source and reason of a :class:`~hub.alerting.Closure` when a condition clears.
CLEARED = "schedule:condition_cleared"
CLEARED_REASON = "The scheduled check no longer finds it (counted as resolved in the replay)."


@dataclass(slots=True)
class _Facts:
    """What the hub's database knows about one patient, from the readings received so far."""

    patient: TruthPatient
    pathway: Pathway
    device_ids: tuple[int, ...]
    last: dict[Measure, datetime] = field(default_factory=dict)
    #: Measurement times (POSIX seconds), sorted, per measure.
    times: dict[Measure, list[float]] = field(default_factory=dict)
    first_reading: dict[int, datetime] = field(default_factory=dict)
    #: When its checks last ran on arrival.
    checked_at: datetime | None = None


class AdherenceChecks:
    """The scheduled pass over a cohort, driven by its readings in arrival order.

    Call :meth:`observe` for each reading (it first runs every tick before the
    reading's arrival) and :meth:`finish` after the last one; :attr:`detections`
    collects what was recorded.
    """

    def __init__(
        self,
        patients: Iterable[TruthPatient],
        device_ids: Mapping[UUID, Sequence[int]],
        *,
        end: datetime,
        every: timedelta = CHECK_EVERY,
        assigned_at: Mapping[int, datetime] | None = None,
        discharged: Mapping[UUID, datetime] | None = None,
    ) -> None:
        pathways: dict[str, Pathway] = {}
        self._discharged = dict(discharged or {})
        self._facts: dict[UUID, _Facts] = {}
        for p in patients:
            pathway = pathways.get(p.pathway.value) or get_pathway(p.pathway.value)
            pathways[p.pathway.value] = pathway
            ids = tuple(device_ids.get(p.patient_id, ()))
            self._facts[p.patient_id] = _Facts(p, pathway, ids)
        starts = [f.patient.start for f in self._facts.values()]
        self._next = min(starts) + every if starts else end
        self._every = every
        self._end = end
        #: When a device was assigned later than its patient's enrolment (a new scale).
        self._assigned = dict(assigned_at or {})
        #: Severity of the open (unresolved) alert per (patient, kind).
        self._open: dict[tuple[UUID, AlertKind], Severity] = {}
        #: Every detection recorded so far, in the order recorded.
        self.detections: list[Detection] = []
        #: The alerts counted as resolved (their condition cleared), in that order.
        self.closures: list[Closure] = []
        #: Seconds spent in the checks (the ticks).
        self.seconds = 0.0

    def observe(self, reading: StreamReading) -> None:
        """Run the ticks before ``reading`` arrived, then take it into the facts."""
        self._run_until(reading.received_at, inclusive=False)
        facts = self._facts.get(reading.patient_id)
        if facts is None:
            return
        m, at = reading.measure, reading.measured_at
        last = facts.last.get(m)
        if last is None or at > last:
            facts.last[m] = at
        insort(facts.times.setdefault(m, []), at.timestamp())
        facts.first_reading.setdefault(reading.device_id, reading.received_at)
        # The check on arrival, at most once per ``ARRIVAL_EVERY`` per patient.
        now = reading.received_at
        if facts.checked_at is None or now - facts.checked_at >= ARRIVAL_EVERY:
            facts.checked_at = now
            t0 = time.perf_counter()
            self.detections += self._check(reading.patient_id, facts, now)
            self.seconds += time.perf_counter() - t0

    def finish(self) -> list[Detection]:
        """Run the remaining ticks up to the end of the cohort; every detection recorded."""
        self._run_until(self._end, inclusive=True)
        return self.detections

    def _run_until(self, until: datetime, *, inclusive: bool) -> None:
        while self._next <= self._end and (
            self._next < until or (inclusive and self._next == until)
        ):
            t0 = time.perf_counter()
            self.detections += self._tick(self._next)
            self.seconds += time.perf_counter() - t0
            self._next += self._every

    def _tick(self, now: datetime) -> list[Detection]:
        recorded: list[Detection] = []
        for pid, f in self._facts.items():
            if f.patient.start <= now:
                recorded += self._check(pid, f, now)
        return recorded

    def _check(self, pid: UUID, f: _Facts, now: datetime) -> list[Detection]:
        # recent = [split, now), previous = [previous, split)
        _, (previous, split) = frequency_windows(f.pathway, now)
        previous_s, split_s, end_s = previous.timestamp(), split.timestamp(), now.timestamp()
        measures = {}
        for m, ts in f.times.items():
            lo, mid = bisect_left(ts, previous_s), bisect_left(ts, split_s)
            hi = bisect_left(ts, end_s)
            measures[m] = MeasureActivity(f.last.get(m), hi - mid, mid - lo)
        devices = [
            DeviceActivity(d, f.first_reading.get(d), self._assigned.get(d)) for d in f.device_ids
        ]
        found = check_adherence(
            patient_id=pid,
            pathway=f.pathway,
            enrolled_at=f.patient.start,
            now=now,
            measures=measures,
            devices=devices,
            discharged_at=self._discharged.get(pid),
        )
        return self._dedup(pid, found, now)

    def _dedup(self, pid: UUID, found: Sequence[Detection], now: datetime) -> list[Detection]:
        """The hub's rule: record only what opens a kind or raises its severity."""
        kinds = {d.kind for d in found}
        for kind in sorted(SCHEDULED_KINDS - kinds):
            if self._open.pop((pid, kind), None) is not None:  # the condition cleared: resolved
                self.closures.append(Closure(pid, kind, now, CLEARED, CLEARED_REASON))
        out: list[Detection] = []
        for d in found:
            current = self._open.get((pid, d.kind))
            if not raises_evidence(current, d.severity):
                continue
            self._open[(pid, d.kind)] = d.severity
            out.append(d)
        return out


def with_checks(
    readings: Iterable[StreamReading], checks: AdherenceChecks
) -> Iterator[StreamReading]:
    """``readings`` unchanged, with ``checks`` watching them go by (call ``finish`` after)."""
    for r in readings:
        checks.observe(r)
        yield r
