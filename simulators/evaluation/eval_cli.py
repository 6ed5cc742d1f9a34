"""``lastmile eval``: score our detectors and the weight rule of thumb on simulated cohorts.

Simulated data only. By default (:mod:`simulators.evaluation.eval_seeds`) each of
``--seeds`` (held-out seeds unless asked otherwise; ``hub/pathways.toml``
names the tuning ones) is drawn by ``--generator`` (``v2``, realistic data
with confounders; ``v1``, the first and kinder simulator), written as a cohort
file in memory and run exactly as ``--cohort FILE`` runs a file: the table,
the curves and the ratio to the rule of thumb at an equal false-alert rate per
seed, then one line of headline figures per seed.

``--cohort FILE`` runs a cohort file (``docs/cohort.md``); ``--export-cohort
FILE`` writes a simulated one. ``--rule-only`` and ``--pipeline`` keep the
earlier in-process comparison (detections grouped into episodes; our
detectors with the hub's scheduled non-adherence checks replayed every 6 h of
simulated time, :mod:`simulators.evaluation.eval_adherence`), one seed (``--seed``).

With ``--pipeline`` the same cohort also goes through the real pipeline
(:mod:`simulators.evaluation.eval_pipeline`: provision, publish over MQTT, the real
``lastmile ingest`` worker, alerts read back from the database) on the
benchmark's private services, and the hub's detections are scored as a third
column. The window then ends two days before today (the hub refuses
measurements from the future), whatever ``--start`` says.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from hub.alerting import Detection
from simulators.evaluation.eval_pipeline import PipelineRun, pipeline_run, pipeline_start
from simulators.evaluation.eval_seeds import DEFAULT_SEEDS, eval_seeds
from simulators.evaluation.evaluate import (
    OURS,
    PIPELINE,
    Evaluation,
    compare_episodes,
    evaluate,
    late_replay,
    with_detections,
)
from simulators.groundtruth import DEFAULT_START, GENERATORS, build_truth_cohort
from simulators.gt_models import TruthKind
from streaming.evaluation import Scorecard, format_table


def _headline(label: str, card: Scorecard) -> str:
    s = card.by_event_kind.get(TruthKind.DECOMPENSATION.value)
    caught = "-" if s is None else f"{s.detected}/{s.events} ({100 * s.sensitivity:.1f} %)"
    return (
        f"  {label:<36} sensitivity {caught:>16}  "
        f"unexplained {card.unexplained_per_patient_year:5.2f}/py ({card.unexplained} alerts)"
    )


def headline(evaluation: Evaluation) -> list[str]:
    """CHF decompensation, with and without our scheduled non-adherence alerts."""
    lines = ["CHF decompensation headline (unexplained alerts of every kind, per patient-year)"]
    for card in evaluation.chf:
        if card.method == OURS and evaluation.chf_without_adherence is not None:
            lines.append(_headline(f"{OURS}, with adherence alerts", card))
            lines.append(
                _headline(f"{OURS}, without adherence alerts", evaluation.chf_without_adherence)
            )
        else:
            lines.append(_headline(card.method, card))
    return lines


def report(evaluation: Evaluation, *, patient_years: float, generator: str = "v2") -> str:
    """The printed report of one evaluation."""
    head = (
        f"SIMULATED cohort ({generator} generator): {patient_years:.1f} patient-years, "
        f"{evaluation.n_readings:,} readings; generated in {evaluation.seconds_generate:.1f} s, "
        f"detection {evaluation.seconds_detect:.1f} s "
        f"(of which scheduled adherence checks {evaluation.seconds_adherence:.1f} s), "
        f"scoring {evaluation.seconds_score:.1f} s"
    )
    lines = [head, "", "Whole cohort", format_table(evaluation.cohort), ""]
    lines += ["CHF patients only", format_table(evaluation.chf), ""]
    lines += [*headline(evaluation), ""]
    lines.append(
        "Operating points (CHF; decompensation sensitivity vs unexplained / patient-year,"
        " without adherence alerts)"
    )
    for p in evaluation.curve:
        lead = "-" if p.median_lead_days is None else f"{p.median_lead_days:.1f} d"
        lines.append(
            f"  {p.label:<22} sensitivity {100 * p.sensitivity:5.1f} %  "
            f"unexplained {p.unexplained_per_patient_year:5.2f}/py  median lead {lead}"
        )
    return "\n".join(lines)


def pipeline_report(
    run: PipelineRun, evaluation: Evaluation, late: list[Detection] | None = None
) -> str:
    """What the pipeline run did, and how its alerts differ from the in-process run's."""
    rejected = ", ".join(f"{code} {n:,}" for code, n in run.rejected.items()) or "none"
    lines = [
        f"Pipeline run (MQTT -> lastmile ingest -> database {run.database}):",
        f"  published {run.published:,} data points ({run.duplicates:,} repeat a stored key); "
        f"stored {run.stored:,} readings; dead letters: {rejected}",
        f"  provision {run.seconds_provision:.1f} s, encode {run.seconds_encode:.1f} s, "
        f"publish {run.seconds_publish:.1f} s, ingest {run.seconds_ingest:.1f} s",
        f"  (ingest = first PUBLISH until every point was stored): "
        f"{run.readings_per_s:,.0f} readings/s with detection",
    ]
    if late is not None:
        diff = compare_episodes(late, evaluation.detections[PIPELINE])
        lines.append(
            f"  alert episodes vs in process, every reading as late as in the pipeline"
            f" (engine alerts): {diff.same:,} identical"
            f" (patient, kind, start, end), {diff.only_first:,} only in process,"
            f" {diff.only_second:,} only in the pipeline;"
            f" {diff.pairs_differing:,} of {diff.pairs:,} (patient, kind) pairs differ"
        )
    lines += [
        "  Readings reach the hub months after they were measured: every pipeline detection is",
        "  ':late' and one severity lower (low stays low); the tables count every severity.",
        "  Non-adherence alerts come from the hub's scheduled pass on the wall clock, which is",
        "  off for replayed data, so the pipeline column catches no non-adherence or drop-out;",
        "  the in-process column replays that pass in simulated time (every 6 h).",
    ]
    return "\n".join(lines)


@click.command("eval")
@click.option("--patients", type=click.IntRange(1, 20_000), default=300, show_default=True)
@click.option("--days", type=click.IntRange(7, 3_650), default=365, show_default=True)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=DEFAULT_SEEDS[0],
    show_default=True,
    help="The seed of --export-cohort, --pipeline and --rule-only.",
)
@click.option(
    "--seeds",
    default=",".join(str(s) for s in DEFAULT_SEEDS),
    show_default=True,
    help="Comma-separated seeds to evaluate (held out from tuning by default).",
)
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
    help="Folder for ground_truth.json and evaluation.png (with --cohort: alerts, rejections, "
    "scores, curve).",
)
@click.option(
    "--generator",
    type=click.Choice(GENERATORS),
    default="v2",
    show_default=True,
    help="v2: realistic data and confounders; v1: the first, kinder simulator.",
)
@click.option("--rule-only", is_flag=True, help="Score only the rule of thumb.")
@click.option(
    "--pipeline",
    is_flag=True,
    help="Also run the cohort through the real MQTT pipeline (ending before today).",
)
@click.option(
    "--cohort",
    "cohort_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run a cohort file (docs/cohort.md) instead of a simulated cohort; "
    "writes alerts.ndjson, and scores it when it has event lines.",
)
@click.option(
    "--export-cohort",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the simulated cohort (--seed, --patients, --days, --start) as a cohort file.",
)
@click.option(
    "--with-adherence",
    is_flag=True,
    help="With --cohort: also replay the scheduled non-adherence checks (off: the "
    "deterioration engine is what is judged).",
)
@click.option(
    "--operating-point",
    "operating_points",
    multiple=True,
    metavar="JSON",
    help="With --cohort: one more run of our detectors with these pathway overrides, e.g. "
    "'{\"weight_gain_short_kg\": 2.5}' (repeatable).",
)
@click.option(
    "--clock",
    type=click.Choice(["received", "measured"]),
    default="received",
    show_default=True,
    help="With --cohort: an alert happens when the hub received the reading that opened it, "
    "or when that reading was measured.",
)
@click.option(
    "--lb-every",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --export-cohort: every N-th patient's scale sends lb (0: none).",
)
def eval_command(
    patients: int,
    days: int,
    seed: int,
    seeds: str,
    start: datetime,
    out: Path,
    generator: str,
    rule_only: bool,
    pipeline: bool,
    cohort_file: Path | None = None,
    export_file: Path | None = None,
    with_adherence: bool = False,
    operating_points: tuple[str, ...] = (),
    clock: str = "received",
    lb_every: int = 0,
) -> None:
    """Score the detectors against the weight rule of thumb on a simulated cohort.

    With --cohort FILE, run a cohort file through the hub's validation,
    normalisation and detectors instead (docs/cohort.md); with
    --export-cohort FILE, write the simulated cohort as such a file.
    """
    if cohort_file is not None or export_file is not None:
        _cohort_paths(
            cohort_file,
            export_file,
            out=out,
            with_adherence=with_adherence,
            operating_points=operating_points,
            clock=clock,
            patients=patients,
            days=days,
            seed=seed,
            start=start,
            lb_every=lb_every,
            other=rule_only or pipeline,
        )
        return
    if not (pipeline or rule_only):
        try:
            chosen = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise click.BadParameter(seeds, param_hint="--seeds") from None
        eval_seeds(
            generator=generator,
            seeds=chosen,
            patients=patients,
            days=days,
            start=start.replace(tzinfo=UTC),
            out=out,
            echo=click.echo,
        )
        return
    from simulators.evaluation.eval_plot import plot

    if pipeline:
        start = pipeline_start(days)
        click.echo(f"pipeline run: the window starts {start:%Y-%m-%d} and ends before today")
    t0 = time.perf_counter()
    cohort = build_truth_cohort(
        patients,
        seed=seed,
        start=start.replace(tzinfo=UTC),
        days=float(days),
        generator=generator,
    )
    generated = time.perf_counter() - t0
    truth_path = out / "ground_truth.json"
    cohort.truth.write(truth_path)
    evaluation = evaluate(cohort, with_engine=not rule_only, seconds_generate=generated)
    run: PipelineRun | None = None
    if pipeline:
        from hub.services import up
        from hub.settings import BENCH_SERVICES, load_settings

        run = pipeline_run(cohort, settings=up(load_settings(**BENCH_SERVICES)))
        evaluation = with_detections(evaluation, cohort, run.detections)
    click.echo(report(evaluation, patient_years=cohort.truth.patient_years, generator=generator))
    if run is not None:
        late = late_replay(cohort) if not rule_only else None
        click.echo("\n" + pipeline_report(run, evaluation, late))
    png = plot(evaluation, cohort, out / "evaluation.png")
    click.echo(f"\nground truth: {truth_path}\nfigure: {png}")


def _cohort_paths(
    cohort_file: Path | None,
    export_file: Path | None,
    *,
    out: Path,
    with_adherence: bool,
    operating_points: tuple[str, ...],
    clock: str,
    patients: int,
    days: int,
    seed: int,
    start: datetime,
    lb_every: int,
    other: bool,
) -> None:
    from simulators.evaluation.cohort_cli import cohort_eval, cohort_export
    from simulators.evaluation.cohort_eval import parse_operating_point
    from simulators.exceptions import SimulatorError

    if other or (cohort_file is not None and export_file is not None):
        msg = (
            "--cohort and --export-cohort go alone (not together, nor with --pipeline/--rule-only)"
        )
        raise click.UsageError(msg)
    if export_file is not None:
        cohort_export(
            export_file,
            patients=patients,
            days=days,
            seed=seed,
            start=start.replace(tzinfo=UTC),
            lb_every=lb_every,
            echo=click.echo,
        )
        return
    assert cohort_file is not None
    try:
        points = [parse_operating_point(text) for text in operating_points]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--operating-point") from None
    try:
        cohort_eval(
            cohort_file,
            out,
            operating_points=points,
            with_adherence=with_adherence,
            clock="measured" if clock == "measured" else "received",
            echo=click.echo,
        )
    except SimulatorError as exc:
        raise click.ClickException(str(exc)) from None


#: The name the main CLI attaches.
eval = eval_command  # noqa: A001
