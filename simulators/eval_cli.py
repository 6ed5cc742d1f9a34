"""``lastmile eval``: score our detectors and the weight rule of thumb on a simulated cohort.

Simulated data only. Builds a seeded ground-truth cohort, writes its ground
truth (JSON), runs the readings in arrival order through both methods in
process, prints the scorecards side by side and writes the figure (PNG).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from simulators.evaluate import Evaluation, evaluate
from simulators.groundtruth import DEFAULT_START, build_truth_cohort
from streaming.evaluation import format_table


def report(evaluation: Evaluation, *, patient_years: float) -> str:
    """The printed report of one evaluation."""
    head = (
        f"SIMULATED cohort: {patient_years:.1f} patient-years, "
        f"{evaluation.n_readings:,} readings; generated in {evaluation.seconds_generate:.1f} s, "
        f"detection {evaluation.seconds_detect:.1f} s, scoring {evaluation.seconds_score:.1f} s"
    )
    lines = [head, "", "Whole cohort", format_table(evaluation.cohort), ""]
    lines += ["CHF patients only", format_table(evaluation.chf), ""]
    lines.append("Operating points (CHF; decompensation sensitivity vs unexplained / patient-year)")
    for p in evaluation.curve:
        lead = "-" if p.median_lead_days is None else f"{p.median_lead_days:.1f} d"
        lines.append(
            f"  {p.label:<22} sensitivity {100 * p.sensitivity:5.1f} %  "
            f"unexplained {p.unexplained_per_patient_year:5.2f}/py  median lead {lead}"
        )
    return "\n".join(lines)


@click.command("eval")
@click.option("--patients", type=click.IntRange(1, 20_000), default=550, show_default=True)
@click.option("--days", type=click.IntRange(7, 3_650), default=365, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=DEFAULT_START.strftime("%Y-%m-%d"),
    show_default=True,
    help="First day of the window (UTC).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-out"),
    show_default=True,
    help="Folder for ground_truth.json and evaluation.png.",
)
@click.option("--rule-only", is_flag=True, help="Score only the rule of thumb.")
def eval_command(
    patients: int, days: int, seed: int, start: datetime, out: Path, rule_only: bool
) -> None:
    """Score the detectors against the weight rule of thumb on a simulated cohort."""
    from simulators.eval_plot import plot

    t0 = time.perf_counter()
    cohort = build_truth_cohort(
        patients, seed=seed, start=start.replace(tzinfo=UTC), days=float(days)
    )
    generated = time.perf_counter() - t0
    truth_path = out / "ground_truth.json"
    cohort.truth.write(truth_path)
    evaluation = evaluate(cohort, with_engine=not rule_only, seconds_generate=generated)
    click.echo(report(evaluation, patient_years=cohort.truth.patient_years))
    png = plot(evaluation, cohort, out / "evaluation.png")
    click.echo(f"\nground truth: {truth_path}\nfigure: {png}")


#: The name the main CLI attaches.
eval = eval_command  # noqa: A001
