"""Scoring alerts against ground truth: sensitivity, lead time, unexplained alerts, PPV.

Pure functions over :class:`~hub.alerting.Detection` and :class:`TruthWindow`
(nothing here knows how the data were made). The definitions:

- **Alert episode.** A detector may fire on every reading while something is
  wrong; consecutive detections of the same patient and alert kind no more
  than ``gap`` apart (default :data:`EPISODE_GAP`, 3 days: a daily schedule
  with a missed day or two) make one episode, i.e. one alert a coordinator
  sees. A detection happens at its ``window_end`` (the newest evidence). With
  ``min_detections=k`` an episode alerts only at its k-th detection (those with
  fewer are dropped): the knob of the sensitivity / false-alert curve.
- **Detected event.** A deterioration (:attr:`Matching.LEAD`) is detected when
  an episode of a relevant kind starts 1-30 days before its event time, and
  not before its onset (an alert before anything changed is chance). A lapse
  in adherence (:attr:`Matching.DURING`) is detected by an episode of a
  relevant kind starting between its onset and its event time.
- **Lead time.** Event time minus the start of the first matching episode (for
  lapses: the delay from the onset instead).
- **Unexplained alert.** An episode that does not start within any event's
  ``onset … explained_until`` window of the same patient (of any kind);
  counted per patient-year of exposure.
- **PPV.** Explained episodes over all episodes.

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from hub.alerting import AlertKind, Detection, Severity
>>> p, t0 = UUID(int=1), datetime(2026, 5, 1, tzinfo=UTC)
>>> event = TruthWindow(p, "decompensation", t0, t0 + timedelta(days=14),
...     t0 + timedelta(days=20), frozenset({AlertKind.WEIGHT_GAIN}), Matching.LEAD)
>>> def alert(day):
...     at = t0 + timedelta(days=day)
...     return Detection(p, AlertKind.WEIGHT_GAIN, Severity.HIGH, "rule:x", None, {}, {},
...                      at, at, "test")
>>> card = score("x", [alert(4), alert(5), alert(60)], [event], patient_years=1.0)
>>> caught = card.by_event_kind["decompensation"]
>>> caught.sensitivity, caught.median_days
(1.0, 10.0)
>>> card.episodes, card.unexplained, card.ppv
(2, 1, 0.5)
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection

EPISODE_GAP = timedelta(days=3)
LEAD_MIN = timedelta(days=1)
LEAD_MAX = timedelta(days=30)
_DAY = timedelta(days=1)


class Matching(enum.StrEnum):
    LEAD = "lead"
    DURING = "during"


@dataclass(frozen=True, slots=True)
class TruthWindow:
    """One true event as the scoring sees it."""

    patient_id: UUID
    kind: str
    onset: datetime
    event_time: datetime
    explained_until: datetime
    relevant: frozenset[AlertKind]
    matching: Matching


@dataclass(frozen=True, slots=True)
class AlertEpisode:
    """Consecutive detections of one patient and kind; ``start`` is when it alerts."""

    patient_id: UUID
    kind: AlertKind
    start: datetime
    end: datetime
    detections: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KindScore:
    """How one kind of event was caught; ``median_days`` is the lead (or, for lapses, delay)."""

    kind: str
    matching: Matching
    events: int
    detected: int
    median_days: float | None
    days: tuple[float, ...]

    @property
    def sensitivity(self) -> float:
        return self.detected / self.events if self.events else 0.0


@dataclass(frozen=True, slots=True)
class Scorecard:
    method: str
    patient_years: float
    detections: int
    episodes: int
    unexplained: int
    by_event_kind: Mapping[str, KindScore]
    alerts_by_kind: Mapping[str, int]

    @property
    def unexplained_per_patient_year(self) -> float:
        return self.unexplained / self.patient_years if self.patient_years > 0 else 0.0

    @property
    def ppv(self) -> float | None:
        return (self.episodes - self.unexplained) / self.episodes if self.episodes else None


def alert_episodes(
    detections: Iterable[Detection], *, gap: timedelta = EPISODE_GAP, min_detections: int = 1
) -> list[AlertEpisode]:
    """Group detections into episodes (see the module's definitions), in start order."""
    by_key: dict[tuple[UUID, AlertKind], list[Detection]] = defaultdict(list)
    for d in detections:
        by_key[(d.patient_id, d.kind)].append(d)
    out: list[AlertEpisode] = []
    for (patient, kind), ds in by_key.items():
        ds.sort(key=lambda d: d.window_end)
        run: list[Detection] = []
        for d in ds:
            if run and d.window_end - run[-1].window_end > gap:
                out.extend(_episode(patient, kind, run, min_detections))
                run = []
            run.append(d)
        out.extend(_episode(patient, kind, run, min_detections))
    out.sort(key=lambda e: (e.start, str(e.patient_id), e.kind.value))
    return out


def _episode(
    patient: UUID, kind: AlertKind, run: Sequence[Detection], k: int
) -> list[AlertEpisode]:
    if len(run) < max(k, 1):
        return []
    sources = tuple(sorted({d.source for d in run}))
    start = run[max(k, 1) - 1].window_end
    return [AlertEpisode(patient, kind, start, run[-1].window_end, len(run), sources)]


def _matches(ep: AlertEpisode, w: TruthWindow, lead_min: timedelta, lead_max: timedelta) -> bool:
    if ep.kind not in w.relevant:
        return False
    if w.matching is Matching.DURING:
        return w.onset <= ep.start <= w.event_time
    return max(w.onset, w.event_time - lead_max) <= ep.start <= w.event_time - lead_min


def score(
    method: str,
    detections: Iterable[Detection],
    windows: Iterable[TruthWindow],
    *,
    patient_years: float,
    gap: timedelta = EPISODE_GAP,
    min_detections: int = 1,
    lead_min: timedelta = LEAD_MIN,
    lead_max: timedelta = LEAD_MAX,
) -> Scorecard:
    """Score one method's detections against the true events."""
    ds = list(detections)
    episodes = alert_episodes(ds, gap=gap, min_detections=min_detections)
    by_patient: dict[UUID, list[AlertEpisode]] = defaultdict(list)
    for ep in episodes:
        by_patient[ep.patient_id].append(ep)
    ws = list(windows)
    windows_of: dict[UUID, list[TruthWindow]] = defaultdict(list)
    for w in ws:
        windows_of[w.patient_id].append(w)
    days: dict[str, list[float]] = defaultdict(list)
    counts: Counter[str] = Counter()
    matching: dict[str, Matching] = {}
    for w in ws:
        counts[w.kind] += 1
        matching[w.kind] = w.matching
        hits = [e for e in by_patient.get(w.patient_id, ()) if _matches(e, w, lead_min, lead_max)]
        if hits:
            first = min(e.start for e in hits)
            span = w.event_time - first if w.matching is Matching.LEAD else first - w.onset
            days[w.kind].append(round(span / _DAY, 3))
    unexplained = sum(
        1
        for ep in episodes
        if not any(w.onset <= ep.start <= w.explained_until for w in windows_of[ep.patient_id])
    )
    kinds = {
        k: KindScore(
            kind=k,
            matching=matching[k],
            events=n,
            detected=len(days[k]),
            median_days=statistics.median(days[k]) if days[k] else None,
            days=tuple(days[k]),
        )
        for k, n in sorted(counts.items())
    }
    return Scorecard(
        method=method,
        patient_years=patient_years,
        detections=len(ds),
        episodes=len(episodes),
        unexplained=unexplained,
        by_event_kind=kinds,
        alerts_by_kind=dict(sorted(Counter(e.kind.value for e in episodes).items())),
    )


def format_table(cards: Sequence[Scorecard]) -> str:
    """The scorecards side by side, one column per method."""
    rows: list[tuple[str, list[str]]] = [
        ("patient-years", [f"{c.patient_years:.1f}" for c in cards]),
        ("detections", [str(c.detections) for c in cards]),
        ("alert episodes", [str(c.episodes) for c in cards]),
        ("unexplained alerts", [str(c.unexplained) for c in cards]),
        ("unexplained / patient-year", [f"{c.unexplained_per_patient_year:.2f}" for c in cards]),
        ("PPV (explained / all)", [_pct(c.ppv) for c in cards]),
    ]
    kinds = sorted({k for c in cards for k in c.by_event_kind})
    for k in kinds:
        scores = [c.by_event_kind.get(k) for c in cards]
        rows.append(
            (f"{k}: sensitivity", [_sens(s) for s in scores]),
        )
        label = (
            "median lead (d)"
            if any(s is not None and s.matching is Matching.LEAD for s in scores)
            else "median delay (d)"
        )
        rows.append(
            (
                f"{k}: {label}",
                [_num(s.median_days if s is not None else None) for s in scores],
            )
        )
    alert_kinds = sorted({k for c in cards for k in c.alerts_by_kind})
    rows.extend(
        (f"alerts: {k}", [str(c.alerts_by_kind.get(k, 0)) for c in cards]) for k in alert_kinds
    )
    head = ("", [c.method for c in cards])
    width = max(len(r[0]) for r in [head, *rows])
    cols = [max(len(r[1][i]) for r in [head, *rows]) for i in range(len(cards))]
    lines = [
        "  ".join([name.ljust(width), *(v.rjust(cols[i]) for i, v in enumerate(values))])
        for name, values in [head, *rows]
    ]
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _sens(s: KindScore | None) -> str:
    return "-" if s is None else f"{s.detected}/{s.events} ({100 * s.sensitivity:.1f} %)"
