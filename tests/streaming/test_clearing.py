"""The clearing rules of the condition alerts (streaming/clearing.py), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure
from hub.pathways import get_pathway
from streaming.adherence import DeviceActivity, MeasureActivity, check_adherence
from streaming.clearing import (
    DeviceState,
    GatewayState,
    OpenAlert,
    PatientFacts,
    Reheadline,
    Resolve,
    explained_by_open_problems,
    settle,
)
from streaming.device_health import DeviceHealth, explain_missed

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
PATIENT = UUID(int=7)
CHF = get_pathway("CHF")  # daily weight and blood pressure, 48 h grace
BP, WEIGHT = Measure.BLOOD_PRESSURE, Measure.BODY_WEIGHT
H = timedelta(hours=1)


def _facts(**latest_hours_ago: float | None) -> PatientFacts:
    measures = {
        Measure(name.replace("_", "-")): MeasureActivity(None if hours is None else NOW - hours * H)
        for name, hours in latest_hours_ago.items()
    }
    return PatientFacts(CHF, enrolled_at=NOW - timedelta(days=60), measures=measures)


def _found(facts: PatientFacts, devices: list[DeviceHealth] | None = None) -> list[Detection]:
    found = check_adherence(
        patient_id=PATIENT,
        pathway=facts.pathway,
        enrolled_at=facts.enrolled_at,
        now=NOW,
        measures=facts.measures,
    )
    return [explain_missed(d, devices=devices or [], pathway=CHF, now=NOW) for d in found]


def _alert(kind: AlertKind, measure: Measure | None = None, device: int | None = None) -> OpenAlert:
    return OpenAlert(PATIENT, kind, Severity.LOW, measure, device)


def test_missed_readings_resolve_when_no_measure_is_missing_and_say_which_reading_came() -> None:
    facts = _facts(blood_pressure=2, body_weight=20)
    outcome = settle(
        _alert(AlertKind.MISSED_READINGS, BP), found=_found(facts), facts=facts, now=NOW
    )
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by == (
        "a blood-pressure reading measured 2026-12-07 10:00 UTC arrived; blood pressure is "
        "within its allowed 72 h (every 24 h, 48 h grace) again"
    )
    assert outcome.detail == {
        "measure": "blood-pressure",
        "last_measured_at": "2026-12-07T10:00:00+00:00",
    }


def test_the_limit_is_the_interval_plus_the_grace_exactly() -> None:
    at_limit, past = (
        _facts(blood_pressure=72, body_weight=1),
        _facts(blood_pressure=72.1, body_weight=1),
    )
    alert = _alert(AlertKind.MISSED_READINGS, BP)
    assert isinstance(settle(alert, found=_found(at_limit), facts=at_limit, now=NOW), Resolve)
    assert settle(alert, found=_found(past), facts=past, now=NOW) is None


def test_a_missed_readings_alert_whose_measure_is_back_names_the_one_still_missing() -> None:
    facts = _facts(blood_pressure=2, body_weight=100)
    outcome = settle(
        _alert(AlertKind.MISSED_READINGS, BP), found=_found(facts), facts=facts, now=NOW
    )
    assert isinstance(outcome, Reheadline)
    assert outcome.detection.measure is WEIGHT
    assert outcome.detection.reason.startswith("No body-weight reading for 100 h")
    # Its headline missing still: left alone.
    headline_weight = _alert(AlertKind.MISSED_READINGS, WEIGHT)
    assert settle(headline_weight, found=_found(facts), facts=facts, now=NOW) is None


def test_missed_readings_explained_by_a_device_problem_end_in_its_favour() -> None:
    facts = _facts(blood_pressure=90, body_weight=1)
    cuff = DeviceHealth("BP-1", frozenset({BP}), "gw-1", 4, NOW - 10 * H)
    found = _found(facts, [cuff])
    assert [d.kind for d in found] == [AlertKind.DEVICE_PROBLEM]
    outcome = settle(_alert(AlertKind.MISSED_READINGS, BP), found=found, facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by.startswith("explained by a device problem: No blood-pressure")
    assert "battery at 4 %" in outcome.cleared_by


def test_a_device_problem_stays_while_its_measure_is_overdue_and_ends_when_readings_resume() -> (
    None
):
    problem = _alert(AlertKind.DEVICE_PROBLEM, BP)
    # The battery report aged out: the readings are still overdue, the problem stays,
    # and the overdue readings raise no missed-readings alert beside it.
    overdue = _facts(blood_pressure=150, body_weight=1)
    found = explained_by_open_problems(_found(overdue), {AlertKind.DEVICE_PROBLEM: problem})
    assert found == []
    assert settle(problem, found=found, facts=overdue, now=NOW) is None
    missed = _alert(AlertKind.MISSED_READINGS, BP)
    outcome = settle(missed, found=found, facts=overdue, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by == (
        "explained by a device problem: see the patient's open device-problem alert"
    )
    resumed = _facts(blood_pressure=0.5, body_weight=1)
    outcome = settle(problem, found=_found(resumed), facts=resumed, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by.startswith("a blood-pressure reading measured 2026-12-07 11:30 UTC")


def _rates(recent: int, previous: int) -> PatientFacts:
    activity = MeasureActivity(NOW - H, recent_count=recent, previous_count=previous)
    return PatientFacts(CHF, enrolled_at=NOW - timedelta(days=60), measures={WEIGHT: activity})


def test_a_frequency_drop_clears_above_the_recovery_ratio_not_at_the_alert_limit() -> None:
    drop = _alert(AlertKind.FREQUENCY_DROP, WEIGHT)
    # 14 in the 14 days before (1/day); the drop opens below 0.4/day and clears at 0.7/day.
    for recent, expected in [(2, None), (3, None), (4, None), (5, Resolve)]:
        facts = _rates(recent, 14)
        found = [d for d in _found(facts) if d.kind is AlertKind.FREQUENCY_DROP]
        assert bool(found) is (recent < 3)  # the alert's own limit
        outcome = settle(drop, found=found, facts=facts, now=NOW)
        assert (outcome is None) if expected is None else isinstance(outcome, Resolve), recent
    facts = _rates(5, 14)
    outcome = settle(drop, found=[], facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by == (
        "Body weight readings are back to 0.71/day in the last 7 days, from 1.00/day in the "
        "14 days before (a drop clears at 0.7 times that rate)"
    )


def test_a_patient_who_stopped_altogether_keeps_the_frequency_drop() -> None:
    drop = _alert(AlertKind.FREQUENCY_DROP, WEIGHT)
    facts = _rates(0, 0)  # weeks later, nothing in either window
    assert settle(drop, found=[], facts=facts, now=NOW) is None


def _devices_found(*never: int) -> list[Detection]:
    return check_adherence(
        patient_id=PATIENT,
        pathway=CHF,
        enrolled_at=NOW - timedelta(days=5),
        now=NOW,
        measures={BP: MeasureActivity(NOW - H), WEIGHT: MeasureActivity(NOW - H)},
        devices=[DeviceActivity(d, None) for d in never],
    )


def test_device_never_active_follows_its_devices_to_their_first_readings() -> None:
    devices = {
        3: DeviceState("SC-3", "active", NOW - 2 * H),
        4: DeviceState("BP-4", "registered", None),
        5: DeviceState("OX-5", "retired", None),
    }
    facts = PatientFacts(CHF, NOW - timedelta(days=5), devices=devices)
    alert = _alert(AlertKind.DEVICE_NEVER_ACTIVE, device=3)
    outcome = settle(alert, found=_devices_found(4), facts=facts, now=NOW)
    assert isinstance(outcome, Reheadline)
    assert outcome.detection.observed["device_id"] == 4
    headline_waiting = _alert(AlertKind.DEVICE_NEVER_ACTIVE, device=4)
    assert settle(headline_waiting, found=_devices_found(4), facts=facts, now=NOW) is None
    outcome = settle(alert, found=[], facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert (
        outcome.cleared_by == "device SC-3 sent its first reading (received 2026-12-07 10:00 UTC)"
    )
    retired = _alert(AlertKind.DEVICE_NEVER_ACTIVE, device=5)
    outcome = settle(retired, found=[], facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by == "device OX-5 is retired"


def test_gateway_offline_clears_when_no_gateway_is_offline_past_the_limit() -> None:
    offline = Detection(
        patient_id=PATIENT,
        kind=AlertKind.GATEWAY_OFFLINE,
        severity=Severity.MEDIUM,
        source="rule:gateway_offline",
        measure=None,
        observed={},
        baseline={},
        window_start=NOW - 30 * H,
        window_end=NOW,
        reason="gateway gw-1 has been offline for 30 h",
    )
    back = GatewayState("gw-1", "online", NOW - 3 * H)
    facts = PatientFacts(CHF, NOW - timedelta(days=9), gateways=[back])
    alert = _alert(AlertKind.GATEWAY_OFFLINE)
    assert settle(alert, found=[offline], facts=facts, now=NOW) is None
    outcome = settle(alert, found=[], facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by == "gateway gw-1 reported online at 2026-12-07 09:00 UTC"
    assert outcome.detail == {"gateway_ids": ["gw-1"]}


def test_a_backfill_under_way_moves_the_headline_to_the_hours_overdue_now() -> None:
    facts = _facts(blood_pressure=90, body_weight=1)
    opened_on = OpenAlert(PATIENT, AlertKind.MISSED_READINGS, Severity.LOW, BP, since=NOW - 618 * H)
    outcome = settle(opened_on, found=_found(facts), facts=facts, now=NOW)
    assert isinstance(outcome, Reheadline)
    assert outcome.detection.reason.startswith("No blood-pressure reading for 90 h since")
    # Not on every batch (the full checks do it), and not when nothing moved.
    assert settle(opened_on, found=_found(facts), facts=facts, now=NOW, refresh=False) is None
    current = OpenAlert(PATIENT, AlertKind.MISSED_READINGS, Severity.LOW, BP, since=NOW - 90 * H)
    assert settle(current, found=_found(facts), facts=facts, now=NOW) is None


def test_an_oxygen_saturation_reading_takes_an() -> None:
    copd = get_pathway("COPD")
    spo2 = Measure.OXYGEN_SATURATION
    facts = PatientFacts(
        copd,
        enrolled_at=NOW - timedelta(days=60),
        measures={spo2: MeasureActivity(NOW - H), Measure.HEART_RATE: MeasureActivity(NOW - H)},
    )
    outcome = settle(_alert(AlertKind.MISSED_READINGS, spo2), found=[], facts=facts, now=NOW)
    assert isinstance(outcome, Resolve)
    assert outcome.cleared_by.startswith("an oxygen-saturation reading measured 2026-12-07 11:00")
