"""Alert records as the hub's alert table holds them: a pure fold of detections and closures.

The hub keeps one unresolved alert per patient and kind
(:func:`alerts.service.record_detection`), and this module mirrors it without
a database, for the evaluation (``lastmile eval --cohort``):

- a detection of a kind with no unresolved alert **opens** one at the
  detection's severity, with the detection as its first and headline reason;
- on an unresolved alert, a detection of a **higher** severity escalates it
  (and becomes the headline), one of the **same** severity becomes the
  headline, a **lower** one is kept as evidence only;
- a :class:`~hub.alerting.Closure` (the engine's
  :meth:`~streaming.engine.PatientMonitor.pop_closures`: no detector of the
  kind has an open episode any more) **resolves** the unresolved alert of its
  kind automatically; the next detection of that kind opens a new alert.

Every change is stamped with the reading behind it (:class:`Stamp`: its
measurement time and its receipt). Detections and closures must be given in
the order the hub would see them: the readings' arrival order, and for one
reading its detections before its closures (what ``process`` then
``pop_closures`` return).

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from hub.alerting import AlertKind, Closure, Detection, Severity
>>> p, t0 = UUID(int=1), datetime(2026, 5, 1, 8, tzinfo=UTC)
>>> def seen(day):
...     return Stamp(t0 + timedelta(days=day), t0 + timedelta(days=day, minutes=3))
>>> def found(severity, day):
...     at = t0 + timedelta(days=day)
...     return Detection(p, AlertKind.WEIGHT_GAIN, severity, "rule:x", None, {}, {},
...                      at, at, f"{severity.value} on day {day}")
>>> cleared = Closure(p, AlertKind.WEIGHT_GAIN, t0 + timedelta(days=6), "engine:x", "back")
>>> records = fold([
...     (found(Severity.LOW, 0), seen(0)),       # opens
...     (found(Severity.HIGH, 2), seen(2)),      # escalates
...     (found(Severity.MEDIUM, 3), seen(3)),    # evidence only
...     (cleared, seen(6)),                      # resolves
...     (found(Severity.MEDIUM, 9), seen(9)),    # a new alert
... ])
>>> [(r.severity.value, r.max_severity.value, len(r.escalations), r.evidence) for r in records]
[('low', 'high', 1, 3), ('medium', 'medium', 0, 1)]
>>> records[0].closed.at.measured_at.day, records[1].closed is None
(7, True)
>>> [r.opened.measured_at.day for r in fold([(found(Severity.LOW, 0), seen(0)),
...     (found(Severity.HIGH, 2), seen(2))], min_severity=Severity.HIGH)]
[3]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Closure, Detection, Severity, severity_rank

#: Consecutive rule firings of one patient and kind no more than this apart are one alert.
FIRING_GAP = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The reading behind a change: when it was measured and when the hub received it."""

    measured_at: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Escalation:
    """The alert's severity rose to ``severity`` with the evidence of ``source``."""

    severity: Severity
    at: Stamp
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """How an alert was resolved automatically: the closure's source and reason."""

    at: Stamp
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert as the hub's alert table would hold it.

    ``severity``, ``source`` and ``reason`` are those of the detection that
    opened it; ``headline_*`` those of the newest evidence at the alert's
    severity; ``closed`` is None while it is unresolved.
    """

    patient_id: UUID
    kind: AlertKind
    severity: Severity
    opened: Stamp
    source: str
    reason: str
    headline_source: str
    headline_reason: str
    escalations: tuple[Escalation, ...] = ()
    evidence: int = 1
    sources: tuple[str, ...] = ()
    closed: Resolution | None = None

    @property
    def max_severity(self) -> Severity:
        return self.escalations[-1].severity if self.escalations else self.severity

    def reached(self, severity: Severity) -> Stamp | None:
        """When the alert first stood at ``severity`` or above (None: never)."""
        if severity_rank(self.severity) >= severity_rank(severity):
            return self.opened
        for e in self.escalations:
            if severity_rank(e.severity) >= severity_rank(severity):
                return e.at
        return None


class Change(enum.StrEnum):
    """What one detection did to the alert table."""

    OPENED = "opened"
    ESCALATED = "escalated"
    HEADLINE = "headline"  # same severity: the newest evidence is the headline
    EVIDENCE = "evidence"  # lower severity: kept as evidence only


@dataclass(slots=True)
class _Draft:
    """An unresolved alert while it may still change."""

    number: int
    record: AlertRecord
    escalations: list[Escalation] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    current: Severity = Severity.LOW
    headline: tuple[str, str] = ("", "")
    evidence: int = 1

    def freeze(self, closed: Resolution | None = None) -> AlertRecord:
        r = self.record
        return AlertRecord(
            patient_id=r.patient_id,
            kind=r.kind,
            severity=r.severity,
            opened=r.opened,
            source=r.source,
            reason=r.reason,
            headline_source=self.headline[0],
            headline_reason=self.headline[1],
            escalations=tuple(self.escalations),
            evidence=self.evidence,
            sources=tuple(sorted(self.sources)),
            closed=closed,
        )


class AlertLedger:
    """The alert table of a run, folded one detection or closure at a time."""

    def __init__(self) -> None:
        self._open: dict[tuple[UUID, AlertKind], _Draft] = {}
        self._done: list[tuple[int, AlertRecord]] = []
        self._count = 0

    def detection(self, d: Detection, at: Stamp) -> Change:
        """Record ``d``, found on the reading stamped ``at`` (``record_detection``)."""
        key = (d.patient_id, d.kind)
        draft = self._open.get(key)
        if draft is None:
            record = AlertRecord(
                d.patient_id, d.kind, d.severity, at, d.source, d.reason, d.source, d.reason
            )
            self._open[key] = _Draft(
                self._count, record, sources={d.source}, current=d.severity, headline=_head(d)
            )
            self._count += 1
            return Change.OPENED
        draft.evidence += 1
        draft.sources.add(d.source)
        rank, current = severity_rank(d.severity), severity_rank(draft.current)
        if rank < current:
            return Change.EVIDENCE
        draft.headline = _head(d)
        if rank == current:
            return Change.HEADLINE
        draft.current = d.severity
        draft.escalations.append(Escalation(d.severity, at, d.source, d.reason))
        return Change.ESCALATED

    def closure(self, c: Closure, at: Stamp) -> AlertRecord | None:
        """Resolve the unresolved alert of ``c``'s kind, if any; the record it became."""
        draft = self._open.pop((c.patient_id, c.kind), None)
        if draft is None:
            return None
        done = draft.freeze(Resolution(at, c.source, c.reason))
        self._done.append((draft.number, done))
        return done

    def is_open(self, patient_id: UUID, kind: AlertKind) -> bool:
        return (patient_id, kind) in self._open

    def records(self) -> list[AlertRecord]:
        """Every alert so far, resolved or not, in the order they opened."""
        still = [(d.number, d.freeze()) for d in self._open.values()]
        return [r for _, r in sorted([*self._done, *still], key=lambda pair: pair[0])]


def _head(d: Detection) -> tuple[str, str]:
    return d.source, d.reason


#: What a run hands the ledger, in order: a detection or closure and its reading.
Entry = tuple[Detection | Closure, Stamp]


def fold(entries: Iterable[Entry], *, min_severity: Severity = Severity.LOW) -> list[AlertRecord]:
    """The alerts of ``entries``; detections below ``min_severity`` are left out.

    ``min_severity`` gives the alert table of a worklist that shows only
    alerts at that severity or above (an operating point of the evaluation).
    """
    floor = severity_rank(min_severity)
    ledger = AlertLedger()
    for item, at in entries:
        if isinstance(item, Closure):
            ledger.closure(item, at)
        elif severity_rank(item.severity) >= floor:
            ledger.detection(item, at)
    return ledger.records()


def group_firings(
    firings: Iterable[tuple[Detection, Stamp]], *, gap: timedelta = FIRING_GAP
) -> list[AlertRecord]:
    """A rule's firings as alerts: one patient's firings of a kind no more than ``gap`` apart.

    A comparator such as the weight rule of thumb fires on every reading
    while it holds and has no closures; its consecutive firings (by
    measurement time) make one alert, opened by the first of them and closed
    by none (:func:`streaming.evaluation.alert_episodes`' grouping).

    >>> from datetime import UTC, datetime
    >>> from hub.alerting import AlertKind, Severity
    >>> t0 = datetime(2026, 5, 1, tzinfo=UTC)
    >>> def fire(day):
    ...     at = t0 + timedelta(days=day)
    ...     d = Detection(UUID(int=1), AlertKind.WEIGHT_GAIN, Severity.HIGH, "rule:r", None,
    ...                   {}, {}, at, at, "r")
    ...     return d, Stamp(at, at)
    >>> [(r.opened.measured_at.day, r.evidence) for r in group_firings(map(fire, [0, 2, 5, 9]))]
    [(1, 3), (10, 1)]
    """
    by_key: dict[tuple[UUID, AlertKind], list[tuple[Detection, Stamp]]] = {}
    for d, at in firings:
        by_key.setdefault((d.patient_id, d.kind), []).append((d, at))
    out: list[AlertRecord] = []
    for run in by_key.values():
        run.sort(key=lambda pair: pair[1].measured_at)
        start = 0
        for i in range(1, len(run) + 1):
            if i == len(run) or run[i][1].measured_at - run[i - 1][1].measured_at > gap:
                out.append(_grouped(run[start:i]))
                start = i
    out.sort(key=lambda r: (r.opened.received_at, r.opened.measured_at, str(r.patient_id)))
    return out


def _grouped(run: list[tuple[Detection, Stamp]]) -> AlertRecord:
    first, at = run[0]
    last = run[-1][0]
    return AlertRecord(
        patient_id=first.patient_id,
        kind=first.kind,
        severity=first.severity,
        opened=at,
        source=first.source,
        reason=first.reason,
        headline_source=last.source,
        headline_reason=last.reason,
        evidence=len(run),
        sources=tuple(sorted({d.source for d, _ in run})),
    )
