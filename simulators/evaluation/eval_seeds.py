"""``lastmile eval`` on simulated cohorts: held-out seeds, through the judge's own door.

Simulated data only. For each seed a ground-truth cohort is drawn
(:func:`~simulators.groundtruth.build_truth_cohort`), written as the lines of a
cohort file (:mod:`simulators.evaluation.cohort_export`: Open mHealth points as the
devices send them, pounds included, with receipt times) and read back through
the hub's validator (:func:`~simulators.evaluation.cohort_reader.read_cohort`), so it
takes exactly the path of ``lastmile eval --cohort FILE``: the hub's
monitors, the alert table's fold, every severity on the worklist, the curves
and the ratio to the rule of thumb at an equal false-alert rate. Each seed's
files go to ``<out>/<generator>-seed-<n>/``.

Tuning and testing are kept apart: ``hub/pathways.toml`` names, in its
``[tuning]`` table, the seeds of each generator its numbers were tuned on.
The default seeds are others (:data:`DEFAULT_SEEDS`); a tuning seed asked for
is run, but marked as such in every line that reports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.pathways import tuning_seeds
from hub.settings import load_settings
from ingest.validation import Validator
from simulators.evaluation.cohort_cli import run_and_report
from simulators.evaluation.cohort_eval import CohortEvaluation, outcome_events
from simulators.evaluation.cohort_export import export_lines
from simulators.evaluation.cohort_format import ProblemLog
from simulators.evaluation.cohort_reader import Cohort, read_cohort
from simulators.evaluation.cohort_run import CohortRun
from simulators.evaluation.evaluate import OURS
from simulators.groundtruth import build_truth_cohort
from streaming.alert_scoring import score_alerts

#: The seeds `lastmile eval` reports by default: never tuned on (see pathways.toml).
DEFAULT_SEEDS = (101, 102)
#: The weight gain from which an event counts as large (the issue's ">= 3 kg").
LARGE_GAIN_KG = 3.0


@dataclass(frozen=True, slots=True)
class SeedFigures:
    """One seed's headline figures (simulated data)."""

    generator: str
    seed: int
    tuned_on: bool
    decompensations: int
    sensitivity: float | None
    sensitivity_with_escalation: float | None
    median_lead_days: float | None
    unexplained_per_patient_year: float | None
    large_gain: tuple[int, int]
    ratio_at: tuple[tuple[float, float | None], ...]
    copd: tuple[float | None, float | None]
    htn: tuple[float | None, float | None]


def simulated_cohort(
    generator: str, seed: int, *, patients: int, days: int, start: datetime, validator: Validator
) -> tuple[Cohort, ProblemLog]:
    """A simulated cohort, as read from its cohort file (nothing written to disk)."""
    truth = build_truth_cohort(
        patients, seed=seed, start=start, days=float(days), generator=generator
    )
    problems = ProblemLog()
    return read_cohort(export_lines(truth), validator=validator, problems=problems), problems


def eval_seeds(
    *,
    generator: str,
    seeds: Sequence[int],
    patients: int,
    days: int,
    start: datetime,
    out: Path,
    echo: Callable[[str], None] = print,
    plot: bool = True,
) -> list[SeedFigures]:
    """Evaluate each seed and print the table of headline figures across them."""
    tuned = set(tuning_seeds().get(generator, ()))
    validator = Validator.from_settings(load_settings())
    figures: list[SeedFigures] = []
    for seed in seeds:
        mark = " -- A TUNING SEED: not evidence" if seed in tuned else " (held out)"
        echo(f"\n=== SIMULATED cohort, generator {generator}, seed {seed}{mark} ===")
        t0 = time.perf_counter()
        cohort, problems = simulated_cohort(
            generator, seed, patients=patients, days=days, start=start, validator=validator
        )
        run, evaluation = run_and_report(
            cohort,
            problems,
            out / f"{generator}-seed-{seed}",
            seconds_read=time.perf_counter() - t0,
            echo=echo,
            plot=plot,
        )
        figures.append(headline(generator, seed, seed in tuned, cohort, run, evaluation))
    echo("\n" + format_figures(figures))
    return figures


def headline(
    generator: str,
    seed: int,
    tuned_on: bool,
    cohort: Cohort,
    run: CohortRun,
    evaluation: CohortEvaluation | None,
) -> SeedFigures:
    """The figures the issue's targets are stated in, for one seed."""
    curves = {c.spec.kind: c for c in evaluation.curves} if evaluation else {}

    def ours(kind: str) -> tuple[float | None, float | None]:
        c = curves.get(kind)
        if c is None:
            return None, None
        p = c.points[0]
        return p.sensitivity, p.unexplained_per_patient_year

    hf = curves.get("decompensation")
    chf = {p.patient_id for p in cohort.patients if p.pathway == "CHF"}
    years = sum(p.exposure_years for p in cohort.patients if p.pathway == "CHF")
    events = [e for e in outcome_events(cohort) if e.patient_id in chf]
    card = score_alerts(
        OURS, [a for a in run.alerts if a.patient_id in chf], events, patient_years=years
    )
    s = card.by_event_kind.get("decompensation")
    large = [e for e in events if e.kind == "decompensation" and (e.gain_kg or 0) >= LARGE_GAIN_KG]
    big = score_alerts(OURS, run.alerts, large, patient_years=max(years, 1e-9))
    caught = big.by_event_kind.get("decompensation")
    return SeedFigures(
        generator=generator,
        seed=seed,
        tuned_on=tuned_on,
        decompensations=0 if s is None else s.events,
        sensitivity=None if s is None else s.sensitivity,
        sensitivity_with_escalation=None if s is None else s.sensitivity_with_escalation,
        median_lead_days=None if s is None else s.median_lead_days,
        unexplained_per_patient_year=card.unexplained_per_patient_year if s else None,
        large_gain=(0 if caught is None else caught.detected, len(large)),
        ratio_at=tuple((r.rate, r.ratio) for r in hf.ratios) if hf else (),
        copd=ours("copd_exacerbation"),
        htn=ours("hypertensive_episode"),
    )


def format_figures(figures: Sequence[SeedFigures]) -> str:
    """One line per seed: what the targets are stated in (SIMULATED data)."""

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f} %"

    def num(x: float | None, unit: str = "") -> str:
        return "-" if x is None else f"{x:.2f}{unit}"

    lines = [
        "Headline figures, SIMULATED cohorts, every severity on the worklist counted",
        "  (CHF decompensations: caught when an alert opened 1-30 d before admission, after "
        "onset; '+esc': or an open alert escalated then; unexplained: alerts of any kind of "
        "CHF patients per patient-year, outside [onset, admission + 14 d] of any event)",
    ]
    for f in figures:
        ratios = ", ".join(
            f"{'-' if r is None else f'{r:.2f}x'} at {rate:.2f}/py" for rate, r in f.ratio_at
        )
        big, n_big = f.large_gain
        lines.append(
            f"  {f.generator} seed {f.seed}{' (TUNING)' if f.tuned_on else ''}: "
            f"{f.decompensations} decompensations, caught {pct(f.sensitivity)} "
            f"(+esc {pct(f.sensitivity_with_escalation)}), median lead "
            f"{num(f.median_lead_days, ' d')}, unexplained {num(f.unexplained_per_patient_year)}"
            f"/py; >= {LARGE_GAIN_KG:g} kg: {big}/{n_big}; vs rule of thumb: {ratios or '-'}; "
            f"COPD caught {pct(f.copd[0])} at {num(f.copd[1])}/py; "
            f"hypertensive caught {pct(f.htn[0])} at {num(f.htn[1])}/py"
        )
    return "\n".join(lines)
