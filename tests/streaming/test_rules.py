"""Safety-rule boundaries, the SpO2-drop rule and the pathway file (weight: test_weight_rule)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hub.alerting import AlertKind, Severity
from hub.domain import Measure
from hub.exceptions import HubError, PathwayError, UnknownPathwayError
from hub.limits import LEGACY_KEYS
from hub.pathways import PATHWAYS_FILE, get_pathway, load_pathways
from streaming.detectors import (
    Detector,
    Finding,
    MeasureLimit,
    Observation,
    SpO2Drop,
    build_detectors,
)
from tests.streaming.series import at, daily

DEFAULT = get_pathway("default")
T = DEFAULT.thresholds
BP = DEFAULT.limits[Measure.BLOOD_PRESSURE]
SPO2 = DEFAULT.limits[Measure.OXYGEN_SATURATION]
HR = DEFAULT.limits[Measure.HEART_RATE]


UNCONFIRMED = DEFAULT.confirm.unconfirmed_severity


def confirmed(finding: Finding | None) -> bool:
    """Whether a finding carries its rule's own severity (not the unconfirmed one)."""
    return finding is not None and finding.severity is not UNCONFIRMED


def unconfirmed(finding: Finding | None) -> bool:
    return finding is not None and finding.severity is UNCONFIRMED


def safety_rule(kind: AlertKind, measure: Measure) -> Detector:
    """The default pathway's safety rule of ``kind``: one side of a measure's limits."""
    (detector,) = [
        d
        for d in build_detectors(measure, DEFAULT)
        if isinstance(d, MeasureLimit) and d.kind is kind
    ]
    return detector


def fires(kind: AlertKind, measure: Measure, value: float, value2: float | None = None) -> bool:
    """Whether the rule fires on ``value`` at once, confirmed by a repeat reading."""
    detector = safety_rule(kind, measure)
    first = detector.update(Observation(at(0), value, value2))
    second = detector.update(Observation(at(0, 1), value, value2))
    assert (first is None) == (second is None)
    return confirmed(second)


def fires_at_once(
    kind: AlertKind, measure: Measure, value: float, value2: float | None = None
) -> bool:
    """Whether a single reading fires with the rule's own severity."""
    return confirmed(safety_rule(kind, measure).update(Observation(at(0), value, value2)))


def flags_at_once(
    kind: AlertKind, measure: Measure, value: float, value2: float | None = None
) -> bool:
    """Whether a single reading fires, unconfirmed."""
    return unconfirmed(safety_rule(kind, measure).update(Observation(at(0), value, value2)))


@pytest.mark.parametrize(
    ("kind", "measure", "single", "at_once", "value2"),
    [
        (AlertKind.BP_LOW, Measure.BLOOD_PRESSURE, 85.0, 79.0, 50.0),
        (AlertKind.SPO2_LOW, Measure.OXYGEN_SATURATION, 86.0, 84.0, None),
        (AlertKind.HR_HIGH, Measure.HEART_RATE, 130.0, 141.0, None),
        (AlertKind.HR_LOW, Measure.HEART_RATE, 38.0, 34.0, None),
    ],
)
def test_a_single_reading_fires_at_once_unconfirmed_unless_beyond_the_at_once_limit(
    kind: AlertKind, measure: Measure, single: float, at_once: float, value2: float | None
) -> None:
    assert flags_at_once(kind, measure, single, value2)
    assert not fires_at_once(kind, measure, single, value2)
    assert fires(kind, measure, single, value2)
    assert fires_at_once(kind, measure, at_once, value2)


def test_a_repeat_reading_back_to_normal_or_too_late_does_not_confirm() -> None:
    (rule, *_) = build_detectors(Measure.HEART_RATE, DEFAULT)
    assert unconfirmed(rule.update(Observation(at(0), 130)))
    assert rule.update(Observation(at(0, 1), 80)) is None
    assert unconfirmed(rule.update(Observation(at(0, 2), 130)))
    hours = DEFAULT.confirm.within_hours
    assert unconfirmed(rule.update(Observation(at(0, 2 + hours + 1), 130)))
    finding = rule.update(Observation(at(0, 3 + hours + 1), 125))
    assert confirmed(finding)
    assert finding is not None
    assert "confirmed by 2 readings" in finding.reason


def test_a_confirmed_episode_stays_confirmed_until_it_ends() -> None:
    (rule, *_) = build_detectors(Measure.HEART_RATE, DEFAULT)
    rule.update(Observation(at(0), 130))
    assert confirmed(rule.update(Observation(at(0, 1), 130)))
    assert rule.update(Observation(at(1), 80)) is None
    assert confirmed(rule.update(Observation(at(2), 126)))  # same episode, no repeat needed
    for day in (3, 4, 5):  # recovery_readings calm readings end it
        assert rule.update(Observation(at(day), 80)) is None
    assert unconfirmed(rule.update(Observation(at(6), 126)))


@pytest.mark.parametrize(
    ("activity", "judged"),
    [
        (None, True),
        ("at rest", True),
        ("before exercise", True),
        ("active", False),
        ("during exercise", False),
        ("after exercise", False),
    ],
)
def test_heart_rate_limits_are_for_a_resting_heart_rate(activity: str | None, judged: bool) -> None:
    high, low, *_ = build_detectors(Measure.HEART_RATE, DEFAULT)
    for rule, bpm in ((high, 150.0), (low, 30.0)):  # beyond the at-once limits
        finding = rule.update(Observation(at(0), bpm, activity=activity))
        assert (finding is not None) == judged


def test_blood_pressure_crisis_fires_on_a_single_reading() -> None:
    assert fires_at_once(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 200, 80)
    assert fires_at_once(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 130, 130)


def test_a_single_crisis_reading_below_the_at_once_limit_waits_for_its_repeat() -> None:
    """ACC/AHA 2017: a reading of 180/120 or more is repeated after 5 minutes' rest."""
    assert not fires_at_once(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 185, 80)
    assert not fires_at_once(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 150, 122)


@given(st.floats(min_value=60, max_value=260))
@example(179.9)
@example(180.0)
def test_systolic_high_is_inclusive_at_180(systolic: float) -> None:
    hit = fires(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, systolic, 80)
    assert hit == (systolic >= BP["systolic.high"])


@given(st.floats(min_value=40, max_value=160))
@example(119.9)
@example(120.0)
def test_diastolic_high_is_inclusive_at_120(diastolic: float) -> None:
    hit = fires(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 130, diastolic)
    assert hit == (diastolic >= BP["diastolic.high"])


def test_blood_pressure_without_diastolic_is_judged_on_systolic() -> None:
    assert fires(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 181)
    assert not fires(AlertKind.BP_HIGH, Measure.BLOOD_PRESSURE, 170)


@given(st.floats(min_value=50, max_value=200))
@example(89.9)
@example(90.0)
def test_systolic_low_is_strict_below_90(systolic: float) -> None:
    hit = fires(AlertKind.BP_LOW, Measure.BLOOD_PRESSURE, systolic, 60)
    assert hit == (systolic < BP["systolic.low"])


@given(st.floats(min_value=70, max_value=100))
@example(87.9)
@example(88.0)
def test_spo2_low_is_strict_below_88(spo2: float) -> None:
    assert fires(AlertKind.SPO2_LOW, Measure.OXYGEN_SATURATION, spo2) == (spo2 < SPO2["low"])


@given(st.floats(min_value=20, max_value=220))
@example(120.0)
@example(120.1)
@example(40.0)
@example(39.9)
def test_heart_rate_limits_are_strict(hr: float) -> None:
    assert fires(AlertKind.HR_HIGH, Measure.HEART_RATE, hr) == (hr > HR["high"])
    assert fires(AlertKind.HR_LOW, Measure.HEART_RATE, hr) == (hr < HR["low"])


def test_copd_pathway_has_its_own_spo2_limit() -> None:
    (low, *_) = build_detectors(Measure.OXYGEN_SATURATION, get_pathway("COPD"))
    assert low.update(Observation(at(0), 86)) is None
    assert low.update(Observation(at(0, 1), 86)) is None
    assert unconfirmed(low.update(Observation(at(1), 84.9)))
    assert confirmed(low.update(Observation(at(1, 1), 84.9)))


def test_per_patient_overrides_reach_the_rules() -> None:
    pathway = DEFAULT.with_overrides({"spo2_low": 90, "severity.spo2_low": "critical"})
    (low, _) = build_detectors(Measure.OXYGEN_SATURATION, pathway)
    assert unconfirmed(low.update(Observation(at(0), 89)))
    finding = low.update(Observation(at(0, 1), 89))
    assert finding is not None
    assert finding.severity is Severity.CRITICAL
    assert finding.baseline == {"spo2_low": 90.0}
    assert SPO2["low"] == 88.0  # the shipped pathway is unchanged


def test_overrides_by_measure_reach_the_rules_as_the_old_names_do() -> None:
    by_measure = DEFAULT.with_overrides(
        {"limits.oxygen-saturation.low": 90, "limits.oxygen-saturation.low_severity": "critical"}
    )
    old = DEFAULT.with_overrides({"spo2_low": 90, "severity.spo2_low": "critical"})
    assert by_measure.limits == old.limits
    assert by_measure.overrides == old.overrides
    own = DEFAULT.with_overrides(
        {"limits.blood-pressure.diastolic.high": 110, "thresholds.systolic_low_at_once": 85}
    )
    crisis, hypotension, *_ = build_detectors(Measure.BLOOD_PRESSURE, own)
    assert crisis.kind is AlertKind.BP_HIGH
    assert unconfirmed(crisis.update(Observation(at(0), 150, 110)))  # inclusive, as shipped
    assert confirmed(hypotension.update(Observation(at(0), 84, 50)))  # beyond its own 85


def test_every_old_name_stands_for_a_limit_of_the_shipped_pathways() -> None:
    for old, new in LEGACY_KEYS.items():
        pathway = get_pathway("COPD")
        value: float | str = "high" if old.endswith("severity") or "severity." in old else 100
        changed = pathway.with_overrides({old: value})
        for key in new:
            measure, _, name = key.removeprefix("limits.").partition(".")
            assert changed.limits[Measure(measure)].table[name] == value, old


def test_a_value_named_by_its_old_and_new_key_is_refused() -> None:
    with pytest.raises(PathwayError, match="both set"):
        DEFAULT.with_overrides({"spo2_low": 86, "limits.oxygen-saturation.low": 87})
    with pytest.raises(PathwayError, match="both set"):
        DEFAULT.with_overrides({"hr_high": 110, "thresholds.hr_high": 115})
    with pytest.raises(PathwayError, match="no such limits"):
        DEFAULT.with_overrides({"limits.body-temperature.high": 38.5})
    with pytest.raises(PathwayError, match="without a limit"):
        DEFAULT.with_overrides({"limits.oxygen-saturation.high_severity": "high"})
    with pytest.raises(PathwayError, match="no alert kind"):
        DEFAULT.with_overrides({"limits.oxygen-saturation.high": 99})
    with pytest.raises(PathwayError, match="missing"):  # a limit needs its at-once limit
        DEFAULT.with_overrides({"limits.blood-pressure.diastolic.low": 50})
    with pytest.raises(PathwayError, match="unknown"):
        DEFAULT.with_overrides({"limits.blood-pressure.high": 170})


def test_the_pathway_doc_lists_every_old_name_and_its_new_key() -> None:
    text = (PATHWAYS_FILE.parents[1] / "docs" / "pathways.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| (`.+`) \|$", text.split("### Old names")[1], re.M)
    documented = {old: tuple(re.findall(r"`([^`]+)`", new)) for old, new in rows}
    bare = {k: v for k, v in LEGACY_KEYS.items() if not k.startswith("thresholds.")}
    assert documented == bare
    examples = dict(re.findall(r'`"([a-z_.-]+)": ([0-9.]+|"[a-z]+")`', text))
    assert len(examples) >= 6
    overrides = {k: json.loads(v) for k, v in examples.items()}
    assert get_pathway("COPD").with_overrides(overrides).overrides


def test_a_pathways_own_limits_override_single_keys_of_the_default() -> None:
    copd = get_pathway("COPD").limits[Measure.OXYGEN_SATURATION]
    assert (copd["low"], copd["low_at_once"]) == (85.0, 82.0)
    assert copd.severity("low") is SPO2.severity("low")
    assert get_pathway("CHF").limits == DEFAULT.limits


def spo2_drop() -> SpO2Drop:
    (_, drop) = build_detectors(Measure.OXYGEN_SATURATION, DEFAULT)
    assert isinstance(drop, SpO2Drop)
    return drop


@given(st.floats(min_value=85, max_value=99))
@example(92.0)
@example(92.1)
def test_spo2_drop_of_4_points_from_the_personal_baseline(spo2: float) -> None:
    drop = spo2_drop()
    warmup = DEFAULT.baseline.spo2_warmup
    for x in daily([96.0] * warmup):
        assert drop.update(x) is None
    confirm = DEFAULT.baseline.spo2_drop_confirm
    found = [drop.update(x) for x in daily([spo2] * confirm, first_day=warmup)]
    assert (found[-1] is not None) == (96.0 - spo2 >= T.spo2_drop - 1e-6)
    assert all(f is None for f in found[:-1])


def test_no_spo2_drop_before_warm_up() -> None:
    drop = spo2_drop()
    assert [drop.update(x) for x in daily([97, 96, 90, 90, 90])] == [None] * 5


def test_single_low_spot_check_does_not_fire_the_drop() -> None:
    drop = spo2_drop()
    series = daily([96.0] * 10 + [91.0] + [96.0] * 5)
    assert not any(drop.update(x) for x in series)
    assert drop.baseline.level == pytest.approx(96.0)


def test_shipped_pathways() -> None:
    pathways = load_pathways()
    assert set(pathways) == {"default", "CHF", "COPD", "HTN"}
    assert set(pathways["CHF"].schedule) == {Measure.BODY_WEIGHT, Measure.BLOOD_PRESSURE}
    assert set(pathways["COPD"].schedule) == {Measure.OXYGEN_SATURATION, Measure.HEART_RATE}
    assert set(pathways["HTN"].schedule) == {Measure.BLOOD_PRESSURE}
    assert all(p.post_discharge_days == 30 for p in pathways.values())
    assert pathways["CHF"].thresholds == DEFAULT.thresholds


def test_post_discharge_window() -> None:
    assert DEFAULT.in_post_discharge(at(0), at(29.9))
    assert not DEFAULT.in_post_discharge(at(0), at(30))
    assert not DEFAULT.in_post_discharge(None, at(1))


def test_unknown_pathway_and_overrides_are_refused() -> None:
    with pytest.raises(UnknownPathwayError):
        get_pathway("ASTHMA")
    with pytest.raises(PathwayError, match="unknown"):
        DEFAULT.with_overrides({"spo2_lowest": 80})
    with pytest.raises(PathwayError, match="severity"):
        DEFAULT.with_overrides({"severity.bp_low": "urgent"})
    with pytest.raises(PathwayError, match="number"):
        DEFAULT.with_overrides({"hr_high": "fast"})
    with pytest.raises(PathwayError, match="measure"):
        DEFAULT.with_overrides({"schedule.glucose": 24})
    assert issubclass(PathwayError, HubError)


def test_schedule_override() -> None:
    pathway = get_pathway("HTN").with_overrides({"schedule.body-weight": 48})
    assert pathway.schedule[Measure.BODY_WEIGHT] == 48.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("low = 88.0", "low = 88.0\nlowest = 80.0"), "unknown"),
        (("low = 40.0\n", ""), "missing"),
        (('low_severity = "high"', 'low_severity = "urgent"'), "severity"),
        (("high_inclusive = 1", "high_inclusive = 2"), "0 or 1"),
        (('low_severity = "high"\n', ""), "missing"),
        (("[default.limits.oxygen-saturation]", "[default.limits.weight]"), "measure"),
        (("[default.limits.oxygen-saturation]", "[default.limits.body-weight]"), "alert kind"),
        (("recovery_readings = 3", "recovery_readings = 2.5"), "whole"),
    ],
)
def test_a_broken_pathway_file_is_refused(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = PATHWAYS_FILE.read_text(encoding="utf-8")
    assert edit[0] in text
    broken = tmp_path / "pathways.toml"
    broken.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(PathwayError, match=message):
        load_pathways(broken)


def test_a_pathway_file_without_default_is_refused(tmp_path: Path) -> None:
    only = tmp_path / "pathways.toml"
    only.write_text('[CHF]\ndescription = "x"\n', encoding="utf-8")
    with pytest.raises(PathwayError, match="default"):
        load_pathways(only)


def test_unreadable_pathway_file(tmp_path: Path) -> None:
    with pytest.raises(PathwayError):
        load_pathways(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\n", encoding="utf-8")
    with pytest.raises(PathwayError):
        load_pathways(bad)


def test_every_alert_kind_of_a_detector_is_known() -> None:
    kinds = {d.kind for m in Measure for d in build_detectors(m, DEFAULT)}
    assert kinds <= set(AlertKind)
