"""``lastmile eval`` on simulated seeds: held out by default, through the cohort-file door."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from hub.pathways import tuning_seeds
from simulators.evaluation.eval_cli import eval_command
from simulators.evaluation.eval_seeds import DEFAULT_SEEDS


def test_the_default_seeds_were_never_tuned_on() -> None:
    tuned = tuning_seeds()
    assert tuned["v1"]
    assert tuned["v2"]
    for seeds in tuned.values():
        assert not set(DEFAULT_SEEDS) & set(seeds)


def test_a_seed_is_scored_with_curves_ratios_and_a_headline_line(tmp_path: Path) -> None:
    """Small and short, so that it runs in seconds; the figures are not the point here."""
    tuning = tuning_seeds()["v2"][0]
    result = CliRunner().invoke(
        eval_command,
        [
            "--seeds",
            f"{DEFAULT_SEEDS[0]},{tuning}",
            "--patients",
            "24",
            "--days",
            "120",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"generator v2, seed {DEFAULT_SEEDS[0]} (held out)" in text
    assert f"seed {tuning} -- A TUNING SEED: not evidence" in text
    assert "Headline figures, SIMULATED cohorts, every severity on the worklist counted" in text
    [held, tuned] = [x for x in text.splitlines() if x.startswith("  v2 seed ")]
    assert "(TUNING)" not in held
    assert "(TUNING)" in tuned
    assert "decompensations, caught" in held
    folder = tmp_path / f"v2-seed-{DEFAULT_SEEDS[0]}"
    scores = orjson.loads((folder / "scores.json").read_bytes())
    [hf] = [c for c in scores["curves"] if c["kind"] == "decompensation"]
    assert hf["knob"] == "heart_failure.limit"
    methods = {p["method"] for p in hf["points"]}
    assert methods == {"detectors", "rule of thumb"}
    assert len(hf["points"]) >= 8  # ours: default, 5 knob values, 2 severities; the rule's 5
    rates = {r["rate"] for r in hf["ratios"]}
    assert {0.5, 1.5} <= rates  # read at equal false-alert rates, and at our default's
    assert (folder / "alerts.ndjson").exists()
    assert (folder / "curve.png").stat().st_size > 10_000
