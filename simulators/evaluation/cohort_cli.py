"""The two cohort-file paths of ``lastmile eval``: ``--cohort FILE`` and ``--export-cohort FILE``.

``--cohort FILE`` reads a cohort file (``docs/cohort.md``), runs it through the
hub's validation, normalisation, duplicate rule and detectors, writes every
alert (``alerts.ndjson``, ``alerts.csv``) and every line or data point left
out (``rejections.ndjson``) into the output folder, and, when the file has
events, prints the scored table and the curve and writes ``scores.json`` and
``curve.png``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from hub.exceptions import PathwayError
from hub.settings import load_settings
from ingest.validation import Validator
from simulators.evaluation.cohort_curves import CURVES, knob_runs
from simulators.evaluation.cohort_eval import CohortEvaluation, check_overrides, evaluate_cohort
from simulators.evaluation.cohort_export import export_cohort
from simulators.evaluation.cohort_format import ProblemLog
from simulators.evaluation.cohort_reader import Cohort, read_cohort
from simulators.evaluation.cohort_report import (
    format_cards,
    format_curves,
    scores_json,
    summary,
    write_alerts,
)
from simulators.evaluation.cohort_run import RULE_THRESHOLDS, CohortRun, Overrides, run_cohort
from simulators.exceptions import SimulatorError
from simulators.groundtruth import build_truth_cohort
from streaming.alert_scoring import Clock


def cohort_eval(
    path: Path,
    out: Path,
    *,
    operating_points: Sequence[Overrides] = (),
    with_adherence: bool = False,
    clock: Clock = "received",
    echo: Callable[[str], None] = print,
    plot: bool = True,
) -> tuple[Cohort, CohortRun]:
    """Run ``lastmile eval --cohort``: read, run, write the files, print the report."""
    out.mkdir(parents=True, exist_ok=True)
    validator = Validator.from_settings(load_settings())
    t0 = time.perf_counter()
    with (out / "rejections.ndjson").open("wb") as sink:
        problems = ProblemLog(sink)
        cohort = read_cohort(path, validator=validator, problems=problems)
    seconds_read = time.perf_counter() - t0
    run, _ = run_and_report(
        cohort,
        problems,
        out,
        seconds_read=seconds_read,
        operating_points=operating_points,
        with_adherence=with_adherence,
        clock=clock,
        echo=echo,
        plot=plot,
    )
    return cohort, run


def run_and_report(
    cohort: Cohort,
    problems: ProblemLog,
    out: Path,
    *,
    seconds_read: float,
    operating_points: Sequence[Overrides] = (),
    with_adherence: bool = False,
    clock: Clock = "received",
    echo: Callable[[str], None] = print,
    plot: bool = True,
) -> tuple[CohortRun, CohortEvaluation | None]:
    """Run a cohort through the hub's detectors, write its alerts and, with events, score
    it (table, curves, ratios, ``scores.json``, ``curve.png``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for overrides in operating_points:
        try:
            check_overrides(cohort, overrides)
        except PathwayError as exc:
            msg = f"operating point {dict(overrides)}: {exc}"
            raise SimulatorError(msg) from None
    scored = bool(cohort.events)
    run = run_cohort(
        cohort,
        rule_thresholds=RULE_THRESHOLDS if scored else (),
        with_adherence=with_adherence,
    )
    keys = {p.patient_id: p.key for p in cohort.patients}
    write_alerts(out, run.alerts, keys)
    echo(summary(cohort, problems, run, seconds_read=seconds_read))
    files = ["alerts.ndjson", "alerts.csv", "rejections.ndjson"]
    evaluation: CohortEvaluation | None = None
    if not scored:
        echo("no event lines: nothing to score (alerts written)")
    else:
        points = {  # the curves leave scheduled checks out: the knob runs skip them
            spec.kind: knob_runs(
                cohort, spec, extra=operating_points if spec.kind == CURVES[0].kind else ()
            )
            for spec in CURVES
            if spec.kind in {e.kind for e in cohort.events}
        }
        evaluation = evaluate_cohort(
            cohort, run, points=points, clock=clock, with_adherence=with_adherence
        )
        echo("")
        echo(
            "Per event kind (alerts at every severity; opened = received by the hub)"
            if clock == "received"
            else "Per event kind (alerts at every severity; by measured time)"
        )
        echo(format_cards(evaluation.cards))
        echo("")
        for note in evaluation.notes:
            echo(note)
        if evaluation.curves:
            echo(format_curves(evaluation))
        (out / "scores.json").write_bytes(scores_json(evaluation))
        files.append("scores.json")
        if plot and evaluation.curves:
            from simulators.evaluation.eval_plot import plot_cohort_curve

            plot_cohort_curve(evaluation, out / "curve.png")
            files.append("curve.png")
    echo("\nwritten: " + ", ".join(str(out / f) for f in files))
    return run, evaluation


def cohort_export(
    path: Path,
    *,
    patients: int,
    days: int,
    seed: int,
    start: datetime,
    lb_every: int = 0,
    echo: Callable[[str], None] = print,
) -> int:
    """Run ``lastmile eval --export-cohort``: a simulated cohort written as a cohort file."""
    t0 = time.perf_counter()
    cohort = build_truth_cohort(patients, seed=seed, start=start, days=float(days))
    lines = export_cohort(cohort, path, lb_every=lb_every)
    echo(
        f"SIMULATED cohort (seed {seed}, {patients} patients, {days} days): {lines:,} lines "
        f"written to {path} in {time.perf_counter() - t0:.1f} s"
    )
    return lines
