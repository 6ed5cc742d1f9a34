"""Scoring alert records against outcome events: sensitivity, lead, false alerts, PPV.

Pure functions over :class:`~streaming.alert_ledger.AlertRecord` (the alerts
as the hub's alert table holds them) and :class:`OutcomeEvent` (an admission
or urgent visit, with the onset of the change if known). Unlike
:func:`streaming.evaluation.score`, nothing is grouped here: an alert is
what a coordinator sees open on the worklist, at any severity.

An alert happens at its opening (or an escalation), read on one clock:
``"received"`` (default: when the reading behind it reached the hub, i.e.
when it was on the worklist) or ``"measured"``.

- **Caught.** An event is caught when an alert of a relevant kind *opens*
  within ``[max(onset, admission - 30 d), admission - 1 d]``; the
  *with escalation* variant also counts an alert of a relevant kind, already
  open, whose severity rose in that window.
- **Lead time.** Admission minus the first matching opening.
- **Unexplained alert.** An opening (of any kind) not within
  ``[onset, admission + 14 d]`` of any event of the same patient (with no
  onset: ``admission - 14 d``); counted per patient-year of exposure.
- **PPV.** Explained openings over all openings.
- **By weight gain.** Events with a ``gain_kg`` are also scored per band of
  :data:`GAIN_BANDS`.

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from streaming.alert_ledger import AlertRecord, Stamp
>>> from hub.alerting import AlertKind, Severity
>>> p, t0 = UUID(int=1), datetime(2026, 5, 1, tzinfo=UTC)
>>> def opened(day):
...     at = Stamp(t0 + timedelta(days=day), t0 + timedelta(days=day))
...     return AlertRecord(p, AlertKind.WEIGHT_GAIN, Severity.LOW, at, "s", "r", "s", "r")
>>> event = OutcomeEvent(p, "decompensation", t0 + timedelta(days=20),
...                      frozenset({AlertKind.WEIGHT_GAIN}), onset=t0 + timedelta(days=5))
>>> card = score_alerts("ours", [opened(8), opened(12), opened(60)], [event], patient_years=0.5)
>>> k = card.by_event_kind["decompensation"]
>>> k.detected, k.events, k.median_lead_days
(1, 1, 12.0)
>>> card.alerts, card.unexplained, card.unexplained_per_patient_year, round(card.ppv, 3)
(3, 1, 2.0, 0.667)
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from hub.alerting import AlertKind
from streaming.alert_ledger import AlertRecord, Stamp
from streaming.evaluation import LEAD_MAX, LEAD_MIN

Clock = Literal["received", "measured"]
#: How far before an admission (without an onset) and after it an alert is explained.
EXPLAINED_BEFORE = timedelta(days=14)
EXPLAINED_AFTER = timedelta(days=14)
#: Bands of an event's weight gain (kg): (label, from inclusive, to exclusive).
GAIN_BANDS: tuple[tuple[str, float, float], ...] = (
    ("gain < 1.5 kg", 0.0, 1.5),
    ("gain 1.5-2.5 kg", 1.5, 2.5),
    ("gain 2.5-3.5 kg", 2.5, 3.5),
    ("gain >= 3.5 kg", 3.5, float("inf")),
)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OutcomeEvent:
    """An admission or urgent visit (``kind``: decompensation, ...) of one patient."""

    patient_id: UUID
    kind: str
    admission: datetime
    relevant: frozenset[AlertKind]
    onset: datetime | None = None
    gain_kg: float | None = None


@dataclass(frozen=True, slots=True)
class Band:
    label: str
    events: int
    detected: int


@dataclass(frozen=True, slots=True)
class EventKindScore:
    """How one kind of event was caught; leads in days, one per caught event."""

    kind: str
    events: int
    detected: int
    detected_with_escalation: int
    leads: tuple[float, ...]
    by_gain: tuple[Band, ...] = ()

    @property
    def sensitivity(self) -> float:
        return self.detected / self.events if self.events else 0.0

    @property
    def sensitivity_with_escalation(self) -> float:
        return self.detected_with_escalation / self.events if self.events else 0.0

    @property
    def median_lead_days(self) -> float | None:
        return statistics.median(self.leads) if self.leads else None


@dataclass(frozen=True, slots=True)
class AlertScorecard:
    method: str
    patient_years: float
    alerts: int
    unexplained: int
    by_event_kind: Mapping[str, EventKindScore]
    alerts_by_kind: Mapping[str, int]

    @property
    def unexplained_per_patient_year(self) -> float:
        return self.unexplained / self.patient_years if self.patient_years > 0 else 0.0

    @property
    def ppv(self) -> float | None:
        return (self.alerts - self.unexplained) / self.alerts if self.alerts else None


def _at(stamp: Stamp, clock: Clock) -> datetime:
    return stamp.received_at if clock == "received" else stamp.measured_at


def lead_window(
    e: OutcomeEvent, *, lead_min: timedelta = LEAD_MIN, lead_max: timedelta = LEAD_MAX
) -> tuple[datetime, datetime]:
    """``[max(onset, admission - lead_max), admission - lead_min]``."""
    start = e.admission - lead_max
    if e.onset is not None:
        start = max(start, e.onset)
    return start, e.admission - lead_min


def explained_window(e: OutcomeEvent) -> tuple[datetime, datetime]:
    """``[onset (else admission - 14 d), admission + 14 d]``."""
    start = e.onset if e.onset is not None else e.admission - EXPLAINED_BEFORE
    return start, e.admission + EXPLAINED_AFTER


def score_alerts(
    method: str,
    alerts: Iterable[AlertRecord],
    events: Iterable[OutcomeEvent],
    *,
    patient_years: float,
    clock: Clock = "received",
    lead_min: timedelta = LEAD_MIN,
    lead_max: timedelta = LEAD_MAX,
) -> AlertScorecard:
    """Score one method's alerts against the events (see the module's definitions)."""
    records = list(alerts)
    by_patient: dict[UUID, list[AlertRecord]] = defaultdict(list)
    for r in records:
        by_patient[r.patient_id].append(r)
    evs = list(events)
    events_of: dict[UUID, list[OutcomeEvent]] = defaultdict(list)
    for e in evs:
        events_of[e.patient_id].append(e)
    leads: dict[str, list[float]] = defaultdict(list)
    counts: Counter[str] = Counter()
    with_escalation: Counter[str] = Counter()
    bands: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    for e in evs:
        counts[e.kind] += 1
        lo, hi = lead_window(e, lead_min=lead_min, lead_max=lead_max)
        mine = [r for r in by_patient.get(e.patient_id, ()) if r.kind in e.relevant]
        openings = [t for r in mine if lo <= (t := _at(r.opened, clock)) <= hi]
        caught = bool(openings)
        if caught:
            leads[e.kind].append(round((e.admission - min(openings)) / _DAY, 3))
        if caught or any(lo <= _at(x.at, clock) <= hi for r in mine for x in r.escalations):
            with_escalation[e.kind] += 1
        if e.gain_kg is not None:
            band = next(label for label, a, b in GAIN_BANDS if a <= e.gain_kg < b)
            bands[e.kind][(band, caught)] += 1
    unexplained = sum(
        1
        for r in records
        if not any(
            lo <= _at(r.opened, clock) <= hi
            for lo, hi in map(explained_window, events_of.get(r.patient_id, ()))
        )
    )
    kinds = {
        k: EventKindScore(
            kind=k,
            events=n,
            detected=len(leads[k]),
            detected_with_escalation=with_escalation[k],
            leads=tuple(leads[k]),
            by_gain=tuple(
                Band(
                    label,
                    bands[k][(label, True)] + bands[k][(label, False)],
                    bands[k][(label, True)],
                )
                for label, _, _ in GAIN_BANDS
                if bands[k][(label, True)] + bands[k][(label, False)]
            ),
        )
        for k, n in sorted(counts.items())
    }
    return AlertScorecard(
        method=method,
        patient_years=patient_years,
        alerts=len(records),
        unexplained=unexplained,
        by_event_kind=kinds,
        alerts_by_kind=dict(sorted(Counter(r.kind.value for r in records).items())),
    )


# -- the sensitivity / false-alert curve ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One operating point: sensitivity against unexplained alerts per patient-year."""

    method: str
    label: str
    sensitivity: float
    unexplained_per_patient_year: float
    median_lead_days: float | None = None


def frontier(points: Iterable[CurvePoint]) -> list[tuple[float, float]]:
    """The (rate, sensitivity) points no other point beats, by rate, from (0, 0).

    A point is dropped when another has no higher rate and no lower
    sensitivity (it is never the better choice); ``(0, 0)`` is the operating
    point of never alerting, open to every method. The curve ends at the
    highest rate any point reached, at the best sensitivity.

    >>> pts = [CurvePoint("m", "a", 0.6, 2.0), CurvePoint("m", "b", 0.5, 2.5),
    ...        CurvePoint("m", "c", 0.3, 0.5)]
    >>> frontier(pts)
    [(0.0, 0.0), (0.5, 0.3), (2.0, 0.6), (2.5, 0.6)]
    """
    ordered = sorted(
        ((p.unexplained_per_patient_year, p.sensitivity) for p in points),
        key=lambda xy: (xy[0], -xy[1]),
    )
    out: list[tuple[float, float]] = [(0.0, 0.0)]
    for rate, sens in ordered:
        if sens > out[-1][1]:
            if rate == out[-1][0]:
                out[-1] = (rate, sens)
            else:
                out.append((rate, sens))
    if ordered and ordered[-1][0] > out[-1][0]:
        out.append((ordered[-1][0], out[-1][1]))
    return out


def sensitivity_at(points: Iterable[CurvePoint], rate: float) -> float | None:
    """A method's sensitivity at ``rate`` unexplained alerts per patient-year.

    Linear interpolation between the neighbouring points of its
    :func:`frontier` (a mix of two operating points, alerting by one or the
    other at random, reaches every point between them). None beyond its
    highest rate (not reached: nothing is extrapolated), or without points.

    >>> pts = [CurvePoint("m", "a", 0.4, 1.0), CurvePoint("m", "b", 0.8, 3.0)]
    >>> sensitivity_at(pts, 0.5), sensitivity_at(pts, 2.0), sensitivity_at(pts, 9.0)
    (0.2, 0.6000000000000001, None)
    """
    given = list(points)
    if not given:
        return None
    curve = frontier(given)
    if rate == curve[0][0]:
        return curve[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if x0 <= rate <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (rate - x0) / (x1 - x0)
    return None


@dataclass(frozen=True, slots=True)
class RatioAt:
    """Our sensitivity over the comparator's, both read at the same false-alert rate."""

    rate: float
    ours: float | None
    theirs: float | None

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.theirs is None or self.theirs == 0:
            return None
        return self.ours / self.theirs


def ratios_at(
    ours: Sequence[CurvePoint], theirs: Sequence[CurvePoint], rates: Iterable[float]
) -> list[RatioAt]:
    """:class:`RatioAt` each of ``rates`` (unexplained alerts per patient-year).

    >>> ours = [CurvePoint("o", "x", 0.6, 1.0)]
    >>> rule = [CurvePoint("r", "y", 0.3, 2.0)]
    >>> [(r.rate, r.ours, r.theirs, r.ratio) for r in ratios_at(ours, rule, [1.0])]
    [(1.0, 0.6, 0.15, 4.0)]
    """
    return [RatioAt(r, sensitivity_at(ours, r), sensitivity_at(theirs, r)) for r in rates]
