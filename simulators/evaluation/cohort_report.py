"""What ``lastmile eval --cohort`` prints and writes: the summary, the table, the curve, the files.

Files in the output folder:

- ``alerts.ndjson``: one alert record a line (see ``docs/cohort.md``);
- ``alerts.csv``: the same, one row per alert, escalations joined in one cell;
- ``rejections.ndjson``: every line not used and every data point the hub
  would refuse (written while reading);
- with events, ``scores.json`` (the table, the curve and the ratios) and
  ``curve.png``.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from simulators.evaluation.cohort_eval import CohortEvaluation
from simulators.evaluation.cohort_format import ProblemLog
from simulators.evaluation.cohort_reader import Cohort
from simulators.evaluation.cohort_run import CohortRun
from streaming.alert_ledger import AlertRecord, Stamp
from streaming.alert_scoring import AlertScorecard, EventKindScore


def iso(at: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` (microseconds only when there are any)."""
    text = at.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _stamp(at: Stamp) -> dict[str, str]:
    return {"measured_at": iso(at.measured_at), "received_at": iso(at.received_at)}


def alert_json(a: AlertRecord, key: str) -> dict[str, Any]:
    """One line of ``alerts.ndjson``."""
    return {
        "patient": key,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "max_severity": a.max_severity.value,
        "opened": {**_stamp(a.opened), "source": a.source, "reason": a.reason},
        "escalations": [
            {"severity": e.severity.value, **_stamp(e.at), "source": e.source, "reason": e.reason}
            for e in a.escalations
        ],
        "closed": None
        if a.closed is None
        else {**_stamp(a.closed.at), "source": a.closed.source, "reason": a.closed.reason},
        "headline": {"source": a.headline_source, "reason": a.headline_reason},
        "evidence": a.evidence,
        "sources": list(a.sources),
    }


_CSV_COLUMNS = (
    "patient",
    "kind",
    "severity",
    "max_severity",
    "opened_measured_at",
    "opened_received_at",
    "opened_source",
    "escalations",
    "closed_measured_at",
    "closed_received_at",
    "closed_source",
    "headline_source",
    "evidence",
)


def write_alerts(folder: Path, alerts: Iterable[AlertRecord], keys: Mapping[UUID, str]) -> int:
    """``alerts.ndjson`` and ``alerts.csv`` in ``folder``, in the order the alerts opened."""
    n = 0
    with (
        (folder / "alerts.ndjson").open("wb") as out,
        (folder / "alerts.csv").open("w", newline="", encoding="utf-8") as table,
    ):
        rows = csv.writer(table)
        rows.writerow(_CSV_COLUMNS)
        ordered = sorted(
            alerts,
            key=lambda a: (a.opened.received_at, a.opened.measured_at, keys[a.patient_id], a.kind),
        )
        for a in ordered:
            key = keys[a.patient_id]
            out.write(orjson.dumps(alert_json(a, key)) + b"\n")
            closed = a.closed
            rows.writerow(
                (
                    key,
                    a.kind.value,
                    a.severity.value,
                    a.max_severity.value,
                    iso(a.opened.measured_at),
                    iso(a.opened.received_at),
                    a.source,
                    "; ".join(f"{e.severity.value}@{iso(e.at.measured_at)}" for e in a.escalations),
                    "" if closed is None else iso(closed.at.measured_at),
                    "" if closed is None else iso(closed.at.received_at),
                    "" if closed is None else closed.source,
                    a.headline_source,
                    a.evidence,
                )
            )
            n += 1
    return n


def summary(cohort: Cohort, problems: ProblemLog, run: CohortRun, *, seconds_read: float) -> str:
    """What was read, what was left out and why, what the run found."""
    c = cohort.counts
    lines = [
        f"cohort: {c.lines:,} lines: {c.patient_lines:,} patient, {c.reading_lines:,} reading, "
        f"{c.event_lines:,} event, {c.meta_lines:,} meta; "
        f"{len(cohort.patients):,} patients, {cohort.patient_years:.1f} patient-years, "
        f"{len(cohort.events):,} events",
        f"  data points {c.points:,}: refused by the hub's validator {c.refused:,}, "
        f"of unknown patients {c.unknown_patient:,}, duplicates {c.duplicates:,}, "
        f"run {c.stored:,}",
    ]
    for category, title in (("line", "lines not used"), ("reading", "refused by the hub")):
        codes = problems.by_code(category)
        if codes:
            lines.append(f"  {title} ({sum(codes.values()):,}):")
            for code, n in codes.items():
                first = ", ".join(map(str, problems.examples[(category, code)]))
                lines.append(f"    {code:<22} {n:>8,}  (lines {first}{', ...' if n > 5 else ''})")
    for meta in cohort.meta:
        lines.append(f"  meta: {orjson.dumps(meta).decode()[:200]}")
    kinds = Counter(a.kind.value for a in run.alerts)
    by = ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())) or "none"
    severities = Counter(a.max_severity.value for a in run.alerts)
    closed = sum(1 for a in run.alerts if a.closed is not None)
    lines += [
        f"read in {seconds_read:.1f} s; detection {run.seconds:.1f} s "
        f"({run.readings:,} readings"
        + (f", scheduled checks {run.seconds_adherence:.1f} s" if run.seconds_adherence else "")
        + ")",
        f"alerts: {len(run.alerts):,} ({closed:,} resolved automatically, "
        f"{len(run.alerts) - closed:,} still open at the end); by kind: {by}",
        "  by highest severity: "
        + ", ".join(f"{s} {severities[s]:,}" for s in ("low", "medium", "high", "critical")),
    ]
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _caught(n: int, of: int) -> str:
    return f"{n}/{of} ({100 * n / of:.1f} %)" if of else "-"


def _kind_rows(k: str, scores: Sequence[EventKindScore | None]) -> list[tuple[str, list[str]]]:
    def each(f: Any) -> list[str]:
        return ["-" if s is None else f(s) for s in scores]

    rows = [
        (f"{k}: alert opened 1-30 d before", each(lambda s: _caught(s.detected, s.events))),
        (
            f"{k}: ... or escalated",
            each(lambda s: _caught(s.detected_with_escalation, s.events)),
        ),
        (
            f"{k}: median lead (d)",
            each(lambda s: "-" if s.median_lead_days is None else f"{s.median_lead_days:.1f}"),
        ),
    ]
    bands = sorted({b.label for s in scores if s is not None for b in s.by_gain})
    for label in bands:

        def band(s: EventKindScore, label: str = label) -> str:
            found = [b for b in s.by_gain if b.label == label]
            return _caught(found[0].detected, found[0].events) if found else "-"

        rows.append((f"{k}: {label}", each(band)))
    return rows


def format_cards(cards: Sequence[AlertScorecard]) -> str:
    """The scorecards side by side, one column per method."""
    rows: list[tuple[str, list[str]]] = [
        ("patient-years", [f"{c.patient_years:.1f}" for c in cards]),
        ("alerts", [f"{c.alerts:,}" for c in cards]),
        ("unexplained alerts", [f"{c.unexplained:,}" for c in cards]),
        ("unexplained / patient-year", [f"{c.unexplained_per_patient_year:.2f}" for c in cards]),
        ("PPV (explained / all)", [_pct(c.ppv) for c in cards]),
    ]
    for k in sorted({k for c in cards for k in c.by_event_kind}):
        rows += _kind_rows(k, [c.by_event_kind.get(k) for c in cards])
    for kind in sorted({k for c in cards for k in c.alerts_by_kind}):
        rows.append((f"alerts: {kind}", [str(c.alerts_by_kind.get(kind, 0)) for c in cards]))
    head = ("", [c.method for c in cards])
    width = max(len(r[0]) for r in [head, *rows])
    cols = [max(len(r[1][i]) for r in [head, *rows]) for i in range(len(cards))]
    return "\n".join(
        "  ".join([name.ljust(width), *(v.rjust(cols[i]) for i, v in enumerate(values))])
        for name, values in [head, *rows]
    )


def format_curves(ev: CohortEvaluation) -> str:
    """Each curve's points, and for heart failure the ratios to the rule of thumb."""
    lines: list[str] = []
    for c in ev.curves:
        lines.append(
            f"Curve: {c.events} {c.spec.kind} events of {c.patients} patients on the "
            f"{c.spec.pathway} pathway ({c.years:.1f} patient-years); knob {c.spec.knob}; "
            f"alert time = {ev.clock}"
        )
        for p in c.points:
            lead = "-" if p.median_lead_days is None else f"{p.median_lead_days:.1f} d"
            lines.append(
                f"  {p.method:<14} {p.label:<40} sensitivity {100 * p.sensitivity:5.1f} %  "
                f"unexplained {p.unexplained_per_patient_year:5.2f}/py  median lead {lead}"
            )
        if c.ratios:
            lines.append("Ours / rule of thumb, sensitivity at an equal unexplained-alert rate")
            for r in c.ratios:
                note = " (our default point)" if r.rate == c.default_rate else ""
                ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
                lines.append(
                    f"  at {r.rate:5.2f}/py{note}: ours {_pct(r.ours)}, rule {_pct(r.theirs)}"
                    f" -> {ratio}"
                )
            lines.append(
                "  (read by linear interpolation on each method's frontier from (0, 0); "
                "'-' where a method does not reach the rate)"
            )
    return "\n".join(lines)


def scores_json(ev: CohortEvaluation) -> bytes:
    def kind(s: EventKindScore) -> dict[str, Any]:
        return {
            "events": s.events,
            "detected": s.detected,
            "sensitivity": s.sensitivity,
            "detected_with_escalation": s.detected_with_escalation,
            "sensitivity_with_escalation": s.sensitivity_with_escalation,
            "median_lead_days": s.median_lead_days,
            "by_gain": [
                {"band": b.label, "events": b.events, "detected": b.detected} for b in s.by_gain
            ],
        }

    return orjson.dumps(
        {
            "clock": ev.clock,
            "table": [
                {
                    "method": c.method,
                    "patient_years": c.patient_years,
                    "alerts": c.alerts,
                    "unexplained": c.unexplained,
                    "unexplained_per_patient_year": c.unexplained_per_patient_year,
                    "ppv": c.ppv,
                    "by_event_kind": {k: kind(s) for k, s in c.by_event_kind.items()},
                    "alerts_by_kind": dict(c.alerts_by_kind),
                }
                for c in ev.cards
            ],
            "curves": [
                {
                    "kind": c.spec.kind,
                    "pathway": c.spec.pathway,
                    "knob": c.spec.knob,
                    "events": c.events,
                    "patient_years": c.years,
                    "points": [
                        {
                            "method": p.method,
                            "label": p.label,
                            "sensitivity": p.sensitivity,
                            "unexplained_per_patient_year": p.unexplained_per_patient_year,
                            "median_lead_days": p.median_lead_days,
                        }
                        for p in c.points
                    ],
                    "ratios": [
                        {"rate": r.rate, "ours": r.ours, "rule": r.theirs, "ratio": r.ratio}
                        for r in c.ratios
                    ],
                }
                for c in ev.curves
            ],
            "notes": ev.notes,
        },
        option=orjson.OPT_INDENT_2,
    )
