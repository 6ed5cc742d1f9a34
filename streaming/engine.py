"""The per-patient engine: routes readings to detectors and reports detections.

A :class:`PatientMonitor` holds one patient's detectors (built on the first
reading of each measure) and pickles whole, so the caller can checkpoint it
with the readings it covers.

One detection per kind per episode
    A detector keeps reporting while its episode is open; the monitor returns
    a kind once and then only when a later finding of that kind is more
    severe (e.g. the slow-gain model's ``medium`` followed by the 72 h rule's
    ``high``). When no detector of the kind has an open episode any more, the
    kind can be reported again, and the monitor keeps a
    :class:`~hub.alerting.Closure` for it (:meth:`PatientMonitor.pop_closures`):
    the alert's cause is gone. :meth:`PatientMonitor.resolve` closes a kind
    at once (its alert was resolved, by a coordinator or automatically: the
    detectors re-arm from the current level).

Late readings
    A reading measured before the latest one already processed for the same
    patient and measure is *out of order*: no detector learns from it (no
    baseline, history or episode changes) and only the safety rules judge it.
    If one fires and its kind is not already open, the detection is returned
    with ``:late`` appended to its source; it does not open the kind.
    A reading received more than ``episodes.stale_after_hours`` after it was
    measured is *stale*: it is processed as usual if in order, but whatever
    it raises is returned with ``:late`` and one severity level lower. An
    out-of-order reading that is also stale gets both.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from uuid import UUID
from zoneinfo import ZoneInfo

from hub.alerting import (
    AlertKind,
    Closure,
    Detection,
    Severity,
    StreamReading,
    severity_rank,
)
from hub.domain import Measure
from hub.pathways import Pathway
from streaming.detectors.base import Detector, Finding, Observation, lower, utc
from streaming.detectors.registry import ALSO_FEEDS, build_detectors
from streaming.detectors.safety import SafetyRule
from streaming.exceptions import ReadingError

LATE = ":late"


class PatientMonitor:
    """One patient's detectors, episodes and the position they cover.

    >>> from datetime import datetime, timedelta, UTC
    >>> from uuid import UUID
    >>> from hub.pathways import get_pathway
    >>> pid = UUID(int=1)
    >>> monitor = PatientMonitor(pid, get_pathway("HTN"))
    >>> at = datetime(2025, 3, 1, 8, tzinfo=UTC)
    >>> def bp(sys, dia, day):
    ...     t = at + timedelta(days=day)
    ...     return StreamReading(pid, 7, Measure.BLOOD_PRESSURE, t, sys, dia, t)
    >>> [d.source for d in monitor.process(bp(206, 100, 0))]  # beyond the at-once limit
    ['rule:bp_high']
    >>> monitor.process(bp(210, 104, 1))  # same episode, not more severe
    []
    >>> [monitor.process(bp(140, 90, day)) for day in (2, 3, 4)]
    [[], [], []]
    >>> [(c.kind.value, c.at.day) for c in monitor.pop_closures()]  # its cause is gone
    [('bp_high', 5)]
    >>> [d.severity.value for d in monitor.process(bp(201, 95, 5))]  # a new episode
    ['critical']
    """

    def __init__(self, patient_id: UUID, pathway: Pathway, timezone: str = "UTC") -> None:
        self.patient_id = patient_id
        self.pathway = pathway
        #: IANA name; the daily models work on the patient's local days.
        self.timezone = timezone
        self._zone = None if timezone == "UTC" else ZoneInfo(timezone)
        self._detectors: dict[Measure, tuple[Detector, ...]] = {}
        self._latest: dict[Measure, float] = {}
        self._open: dict[AlertKind, Severity] = {}
        self._closures: list[Closure] = []

    @property
    def open_kinds(self) -> Mapping[AlertKind, Severity]:
        """Kinds reported whose episode is still open, with the severity reported."""
        return MappingProxyType(self._open)

    def latest_measured_at(self, measure: Measure) -> datetime | None:
        """Measurement time of the latest in-order reading of ``measure``."""
        ts = self._latest.get(measure)
        return None if ts is None else utc(ts)

    def detectors(self, measure: Measure) -> tuple[Detector, ...]:
        """The detectors of ``measure`` (built on first use)."""
        found = self._detectors.get(measure)
        if found is None:
            found = build_detectors(measure, self.pathway)
            for primary in ALSO_FEEDS.get(measure, ()):  # one shared joint detector
                found += tuple(
                    d
                    for d in self.detectors(primary)
                    if measure in d.measures and all(d is not mine for mine in found)
                )
            self._detectors[measure] = found
        return found

    def process(self, reading: StreamReading) -> list[Detection]:
        """Score and learn one reading; return what it newly shows."""
        if reading.patient_id is not self.patient_id and reading.patient_id != self.patient_id:
            raise ReadingError(f"reading of {reading.patient_id} given to {self.patient_id}")
        if reading.measured_at.tzinfo is None or reading.received_at.tzinfo is None:
            raise ReadingError("reading timestamps must be timezone-aware")
        at = reading.measured_at
        offset = 0.0 if self._zone is None else _offset(at, self._zone)
        x = Observation(
            at,
            reading.value,
            reading.value2,
            reading.measure,
            reading.activity,
            offset,
            reading.device_id,
        )
        ts = reading.measured_at.timestamp()
        measure = reading.measure
        detectors = self._detectors.get(measure) or self.detectors(measure)
        latest = self._latest.get(measure)
        out_of_order = latest is not None and ts < latest
        was_active = [d for d in detectors if d.episode_active] if self._open else []
        if out_of_order:
            found = [d.score_one(x) for d in detectors if isinstance(d, SafetyRule)]
        else:
            self._latest[measure] = ts
            found = [d.update(x) for d in detectors]
        out: list[Detection] = []
        if found.count(None) < len(found):
            stale_after = timedelta(hours=self.pathway.episodes.stale_after_hours)
            stale = reading.received_at - reading.measured_at > stale_after
            findings = sorted(
                (f for f in found if f is not None), key=lambda f: -severity_rank(f.severity)
            )
            out = [
                d
                for f in findings
                if (d := self._report(f, reading, stale=stale, out_of_order=out_of_order))
            ]
        if self._open:
            self._forget_closed(reading, [d for d in was_active if not d.episode_active])
        return out

    def pop_closures(self) -> list[Closure]:
        """The kinds whose episodes ended since the last call (oldest first)."""
        closures, self._closures = self._closures, []
        return closures

    def resolve(self, kind: AlertKind) -> None:
        """Close every episode of ``kind`` now; detectors re-arm from here.

        Only a kind this monitor reported and still has open is closed; for
        any other kind (its episode already ended, or the alert came from
        elsewhere) this does nothing.
        """
        if kind not in self._open:
            return
        for detectors in self._detectors.values():
            for d in detectors:
                if d.kind == kind:
                    d.resolve()
        self._open.pop(kind, None)

    def _report(
        self, f: Finding, reading: StreamReading, *, stale: bool, out_of_order: bool
    ) -> Detection | None:
        if not f.confirmed and not self.pathway.confirm.report_unconfirmed:
            return None  # waits for the repeat reading that confirms it
        if f.escalates_only and f.kind not in self._open:
            return None
        severity = lower(f.severity) if stale else f.severity
        reported = self._open.get(f.kind)
        if reported is not None and severity_rank(severity) <= severity_rank(reported):
            return None
        reason = f.reason
        if out_of_order:
            reason += " Reported late: newer readings of this measure were already processed."
        elif stale:
            hours = (reading.received_at - reading.measured_at) / timedelta(hours=1)
            reason += f" Reported late: measured {hours:.0f} h before it arrived."
        if not out_of_order:
            self._open[f.kind] = severity
        return Detection(
            patient_id=self.patient_id,
            kind=f.kind,
            severity=severity,
            source=f.source + LATE if stale or out_of_order else f.source,
            measure=reading.measure,
            observed=f.observed,
            baseline=f.baseline,
            window_start=f.window_start,
            window_end=f.window_end,
            reason=reason,
        )

    def _forget_closed(self, reading: StreamReading, ended: list[Detector]) -> None:
        active = {d.kind for ds in self._detectors.values() for d in ds if d.episode_active}
        for kind in [k for k in self._open if k not in active]:
            del self._open[kind]
            notes = {
                f"{d.source}: {note}"
                for d in ended
                if d.kind is kind and (note := d.recovery_reason())
            }
            rule = (
                f"readings back inside the limits on {self.pathway.episodes.recovery_readings} "
                "readings (or days) in a row."
            )
            self._closures.append(
                Closure(
                    patient_id=self.patient_id,
                    kind=kind,
                    at=reading.measured_at,
                    source="engine:episode_ended",
                    reason=f"{kind.value.replace('_', ' ')} cleared: "
                    + ("; ".join(sorted(notes)) if notes else rule),
                )
            )


def _offset(at: datetime, zone: ZoneInfo) -> float:
    """Seconds east of UTC of local time in ``zone`` at ``at``."""
    delta = at.astimezone(zone).utcoffset()
    return 0.0 if delta is None else delta.total_seconds()


def state_size(monitor: PatientMonitor) -> int:
    """Bytes of ``monitor`` pickled (what a checkpoint stores)."""
    return len(pickle.dumps(monitor, protocol=pickle.HIGHEST_PROTOCOL))
