"""The evaluation's figure: timelines of a few patients, and sensitivity vs false alerts.

Matplotlib with the Agg backend (no display needed). Simulated data only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from hub.domain import Measure
from simulators.evaluation.cohort_eval import CohortEvaluation
from simulators.evaluation.evaluate import OURS, RULE, CurvePoint, Evaluation
from simulators.groundtruth import TruthCohort
from simulators.gt_models import TruthKind, TruthPatient
from streaming.alert_scoring import CurvePoint as CohortPoint
from streaming.alert_scoring import frontier
from streaming.evaluation import AlertEpisode, alert_episodes

_EVENT_COLOURS = {
    TruthKind.DECOMPENSATION: "tab:red",
    TruthKind.COPD_EXACERBATION: "tab:purple",
    TruthKind.HYPERTENSIVE_EPISODE: "tab:orange",
    TruthKind.NON_ADHERENCE: "tab:grey",
    TruthKind.DROPOUT: "black",
    TruthKind.WEEKEND_BUMP: "tab:olive",
}
_METHOD_COLOURS = {OURS: "tab:blue", RULE: "tab:green"}


def pick_patients(cohort: TruthCohort, n: int = 4) -> list[TruthPatient]:
    """The first ``n`` patients with a decompensation (else any with an event)."""
    with_decomp = {e.patient_index for e in cohort.truth.of_kind(TruthKind.DECOMPENSATION)}
    chosen = [p for p in cohort.patients if p.index in with_decomp][:n]
    return chosen or list(cohort.patients[:n])


def plot(
    evaluation: Evaluation,
    cohort: TruthCohort,
    path: Path,
    *,
    patients: Sequence[TruthPatient] | None = None,
) -> Path:
    """Write the figure to ``path`` (PNG) and return it."""
    chosen = list(patients) if patients is not None else pick_patients(cohort)
    fig = plt.figure(figsize=(14, 3.0 * len(chosen) + 5))
    grid = fig.add_gridspec(len(chosen) + 1, 1, height_ratios=[*[1.0] * len(chosen), 1.6])
    episodes = {m: alert_episodes(ds) for m, ds in evaluation.detections.items()}
    for row, patient in enumerate(chosen):
        ax = fig.add_subplot(grid[row, 0])
        _timeline(ax, cohort, patient, episodes)
    ax = fig.add_subplot(grid[len(chosen), 0])
    _curve(ax, evaluation.curve)
    fig.suptitle("Lastmile evaluation on a SIMULATED cohort (ground truth known)", fontsize=12)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _timeline(
    ax: Axes,
    cohort: TruthCohort,
    patient: TruthPatient,
    episodes: dict[str, list[AlertEpisode]],
) -> None:
    def day(at: datetime) -> float:
        return (at - patient.start) / timedelta(days=1)

    weights = [
        (day(r.measured_at), r.value)
        for r in cohort.patient_readings(patient.index)
        if r.measure is Measure.BODY_WEIGHT
    ]
    weights.sort()
    if weights:
        ax.plot([w[0] for w in weights], [w[1] for w in weights], ".", ms=3, color="0.4")
    ax.set_ylabel("weight (kg)")
    ax.set_title(f"patient {patient.index} ({patient.pathway.value})", fontsize=9, loc="left")
    for e in cohort.truth.events:
        if e.patient_index != patient.index or e.kind.single_reading:
            continue
        colour = _EVENT_COLOURS.get(e.kind, "grey")
        ax.axvspan(day(e.onset), day(e.event_time), color=colour, alpha=0.15, lw=0)
        if e.kind.deterioration:
            ax.axvline(day(e.event_time), color=colour, lw=1.5)
            ax.text(
                day(e.event_time),
                1.0,
                e.kind.value,
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                color=colour,
                ha="right",
                va="top",
            )
    lo, hi = ax.get_ylim()
    for k, (method, eps) in enumerate(episodes.items()):
        mine = [day(ep.start) for ep in eps if ep.patient_id == patient.patient_id]
        y = lo + (hi - lo) * (0.06 + 0.08 * k)
        ax.plot(
            mine,
            [y] * len(mine),
            "v",
            color=_METHOD_COLOURS.get(method, "k"),
            ms=7,
            label=f"alerts: {method}",
        )
    ax.set_xlim(0.0, day(cohort.truth.end))
    ax.set_xlabel(f"days since {patient.start:%Y-%m-%d}", fontsize=8)
    ax.legend(loc="upper left", fontsize=7)


def plot_cohort_curve(evaluation: CohortEvaluation, path: Path) -> Path:
    """The curves of a cohort run (PNG), one panel each, with the equal-rate ratios marked."""
    n = max(len(evaluation.curves), 1)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 5.5), squeeze=False)
    for ax, c in zip(axes[0], evaluation.curves, strict=False):
        _curve(ax, c.points, frontier_lines=True)
        ax.set_ylabel(f"{c.spec.kind.replace('_', ' ')}s caught 1-30 d ahead (%)")
        ax.set_xlabel(f"unexplained alerts per {c.spec.pathway} patient-year")
        for r in c.ratios:
            ax.axvline(r.rate, color="0.75", ls=":", lw=1)
            if r.ratio is not None:
                ax.annotate(
                    f"x{r.ratio:.2f}",
                    (r.rate, 2),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(3, 0),
                )
        ax.set_title(
            f"{c.spec.kind} caught vs unexplained alerts, {c.spec.pathway} patients\n"
            f"({c.events} events, {c.years:.1f} patient-years; knob {c.spec.knob}; "
            f"alert time: {evaluation.clock}; simulated or de-identified data)",
            fontsize=8,
            loc="left",
        )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _curve(
    ax: Axes, curve: Sequence[CurvePoint | CohortPoint], *, frontier_lines: bool = False
) -> None:
    """Each method's points, joined in order of rate (with the targets) or by their frontier."""
    for method in (OURS, RULE):
        pts = [p for p in curve if p.method == method]
        if not pts:
            continue
        pts.sort(key=lambda p: p.unexplained_per_patient_year)
        xs = [p.unexplained_per_patient_year for p in pts]
        ys = [100 * p.sensitivity for p in pts]
        colour = _METHOD_COLOURS[method]
        if not frontier_lines:
            ax.plot(xs, ys, "o-", color=colour, label=method)
        else:
            edge = frontier(p for p in pts if isinstance(p, CohortPoint))
            ax.plot(xs, ys, "o", color=colour)
            ax.plot(
                [x for x, _ in edge], [100 * y for _, y in edge], "-", color=colour, label=method
            )
        for p, x, y in zip(pts, xs, ys, strict=True):
            ax.annotate(
                p.label.removeprefix("rule "),
                (x, y),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 4),
            )
    if not frontier_lines:
        ax.axhline(70, color="0.6", ls="--", lw=1)
        ax.axvline(1.5, color="0.6", ls="--", lw=1)
    ax.set_xlabel("unexplained alerts per CHF patient-year")
    ax.set_ylabel("decompensations caught 1-30 d ahead (%)")
    ax.set_title(
        "Sensitivity vs false-alert rate (CHF patients; rule: kg threshold; ours: min severity)",
        fontsize=9,
        loc="left",
    )
    ax.set_ylim(0, 100)
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8)
