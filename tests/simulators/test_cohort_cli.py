"""``lastmile eval --cohort`` end to end on tiny hand-made files (simulated values)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
from click.testing import CliRunner

from simulators.evaluation.eval_cli import eval_command
from tests.simulators.cohort_lines import day, event, line, patient, weight, z

#: A CHF patient steady at 80 kg for two weeks, then gaining about 1 kg a day.
WEIGHTS = [80.0 + 0.1 * (d % 2) for d in range(14)] + [81.0, 82.2, 83.1, 84.0, 85.2]
#: The first weight 2 kg above the lowest of the 72 h before it (day 15). The
#: heart-failure score opens the alert on day 17 (medium); the guideline rule,
#: broken on every weighing day since, raises it to high the next day.
FIRST_GAIN_DAY = 15
OPENED_DAY = FIRST_GAIN_DAY + 2


def cohort_file(tmp_path: Path, *, events: bool) -> Path:
    lines = [patient("p1", "CHF", until=z(day(40)))]
    lines += [weight(kg, d) for d, kg in enumerate(WEIGHTS)]
    lines += [weight(80.0 + 0.1 * (d % 2), d, key="p2") for d in range(19)]
    lines.append(patient("p2", "CHF", until=z(day(40))))
    lines.append(b'{"type": "reading", "patient": "p1"}\n')  # no received_at, no data point
    if events:
        lines.append(event(day(22), key="p1", onset=z(day(13)), gain_kg=5.2))
    lines.append(line({"type": "meta", "simulated": True}))
    path = tmp_path / "cohort.ndjson"
    path.write_bytes(b"".join(lines))
    return path


def test_a_cohort_with_events_prints_the_table_and_the_curve_and_writes_the_alerts(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        eval_command, ["--cohort", str(cohort_file(tmp_path, events=True)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "2 patients" in text
    assert "field_missing" in text  # the bad line, summarised
    [row] = [x for x in text.splitlines() if x.startswith("decompensation: alert opened")]
    assert row.count("1/1 (100.0 %)") == 2  # ours and the rule
    assert "Curve: 1 decompensation events of 2 patients on the CHF pathway" in text
    assert "rule of thumb  rule 2 kg" in text
    assert "Ours / rule of thumb, sensitivity at an equal unexplained-alert rate" in text
    alerts = [orjson.loads(x) for x in (out / "alerts.ndjson").read_bytes().splitlines()]
    [gain] = [a for a in alerts if a["kind"] == "weight_gain"]
    assert gain["patient"] == "p1"
    opened = day(OPENED_DAY)  # the unconfirmed day-15 gain waited for its repeat
    assert gain["opened"]["measured_at"] == z(opened)
    assert gain["opened"]["received_at"] == z(opened + timedelta(minutes=5))
    assert (gain["severity"], gain["opened"]["source"]) == ("medium", "model:heart_failure_score")
    [up] = gain["escalations"]
    assert (up["severity"], up["source"]) == ("high", "rule:weight_gain_72h")
    assert up["measured_at"] == z(day(OPENED_DAY + 1))
    assert gain["closed"] is None
    assert all(a["patient"] == "p1" for a in alerts)
    csv_rows = (out / "alerts.csv").read_text().splitlines()
    assert len(csv_rows) == len(alerts) + 1
    rejections = [orjson.loads(x) for x in (out / "rejections.ndjson").read_bytes().splitlines()]
    assert [(r["line"], r["code"]) for r in rejections] == [(41, "field_missing")]
    scores = orjson.loads((out / "scores.json").read_bytes())
    ours = scores["table"][0]["by_event_kind"]["decompensation"]
    assert (ours["events"], ours["detected"]) == (1, 1)
    assert ours["median_lead_days"] == round(5.0 - 5 / 1440, 3)  # admission minus receipt
    assert (out / "curve.png").stat().st_size > 10_000


def test_without_events_the_alerts_are_written_and_nothing_is_scored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        eval_command, ["--cohort", str(cohort_file(tmp_path, events=False)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "no event lines: nothing to score" in result.output
    assert "Per event kind" not in result.output
    assert "Curve" not in result.output
    alerts = (out / "alerts.ndjson").read_bytes().splitlines()
    assert any(orjson.loads(a)["kind"] == "weight_gain" for a in alerts)
    assert not (out / "scores.json").exists()


def test_an_operating_point_must_be_overrides_the_pathways_accept(tmp_path: Path) -> None:
    path = cohort_file(tmp_path, events=True)
    out = str(tmp_path / "out")
    bad = CliRunner().invoke(
        eval_command, ["--cohort", str(path), "--out", out, "--operating-point", "[1]"]
    )
    assert bad.exit_code == 2
    unknown = CliRunner().invoke(
        eval_command,
        ["--cohort", str(path), "--out", out, "--operating-point", '{"no_such_knob": 1}'],
    )
    assert unknown.exit_code == 1
    assert "no_such_knob" in unknown.output
    good = CliRunner().invoke(
        eval_command,
        [
            "--cohort",
            str(path),
            "--out",
            out,
            "--operating-point",
            '{"weight_gain_short_kg": 3.5, "weight_gain_at_once_kg": 6}',
        ],
    )
    assert good.exit_code == 0, good.output
    assert "at_once_kg=6, weight_gain_short_kg=3.5" in good.output


def test_cohort_goes_alone(tmp_path: Path) -> None:
    path = cohort_file(tmp_path, events=False)
    result = CliRunner().invoke(eval_command, ["--cohort", str(path), "--pipeline"])
    assert result.exit_code == 2
    assert "go alone" in result.output


def test_with_adherence_the_scheduled_checks_open_and_close_their_alerts(tmp_path: Path) -> None:
    from hub.alerting import severity_rank
    from ingest.validation import Validator
    from simulators.evaluation.cohort_reader import read_cohort
    from simulators.evaluation.cohort_run import run_cohort
    from tests.simulators.cohort_lines import bp_point, reading

    days = [*range(5), *range(12, 20)]  # a week without readings
    lines = [patient("h", "HTN", until=z(day(20)))]
    lines += [reading(bp_point(128, 80, day(d)), day(d, 8), key="h") for d in days]
    validator = Validator(future_tolerance=timedelta(minutes=5))
    cohort = read_cohort(lines, validator=validator)
    assert run_cohort(cohort).alerts == []  # off by default
    [missed] = run_cohort(cohort, with_adherence=True).alerts
    assert missed.kind.value == "missed_readings"
    assert day(5) < missed.opened.received_at < day(12)
    assert missed.closed is not None
    assert day(12) < missed.closed.at.received_at <= day(12, 8 + 6)  # the next check after
    lines[0] = patient("h", "HTN", until=z(day(20)), discharged=z(day(0)))
    [soon] = run_cohort(read_cohort(lines, validator=validator), with_adherence=True).alerts
    assert severity_rank(soon.severity) == severity_rank(missed.severity) + 1  # post-discharge
