"""Refills overdue and low PDC, per drug class, from classified fills."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from hub.alerting import AlertKind, Severity
from streaming.pdc import Fill
from streaming.refills import ClassFill, refill_detections, run_out

P = UUID(int=7)
RAS = frozenset({"ras_antagonists"})
LOOP = frozenset({"loop_diuretics"})


def kinds(fills: list[ClassFill], today: date) -> list[tuple[str, str]]:
    return [(d.kind.value, d.severity.value) for d in refill_detections(P, fills, today=today)]


def test_the_run_out_day_counts_early_refills_of_one_drug_in_full() -> None:
    fills = [Fill("lisinopril", date(2026, 1, 1), 30), Fill("lisinopril", date(2026, 1, 20), 30)]
    assert run_out(fills) == date(2026, 3, 2)  # 31 Jan + 30 days, not 20 Jan + 30
    assert run_out([]) is None


def test_a_class_is_overdue_after_its_grace_and_a_switch_of_drug_is_no_gap() -> None:
    switch = [
        ClassFill("lisinopril", RAS, date(2026, 1, 1), 30),
        ClassFill("losartan", RAS, date(2026, 1, 30), 30),  # the doctor switched drugs
    ]
    assert kinds(switch, date(2026, 3, 1)) == []  # supplied until 28 Feb, then 1 day late
    overdue = refill_detections(P, switch, today=date(2026, 3, 9))
    assert [(d.kind, d.severity) for d in overdue] == [(AlertKind.REFILL_OVERDUE, Severity.MEDIUM)]
    assert overdue[0].observed == {"days_without_supply": 8, "last_days_supply": 30}
    assert "losartan last filled 2026-01-30" in overdue[0].reason
    # A loop diuretic filled on time is not overdue because the RAS class is.
    both = [*switch, ClassFill("furosemide", LOOP, date(2026, 3, 1), 30)]
    assert [d.reason.split(":")[0] for d in refill_detections(P, both, today=date(2026, 3, 9))] == [
        "RAS antagonists (ACE inhibitors, ARBs, ARNI)"
    ]


def test_a_low_pdc_is_a_low_alert_once_the_patient_is_eligible() -> None:
    gappy = [
        ClassFill("furosemide", LOOP, date(2026, 1, 1), 30),
        ClassFill("furosemide", LOOP, date(2026, 3, 1), 30),  # February uncovered
        ClassFill("furosemide", LOOP, date(2026, 4, 1), 30),
    ]
    found = refill_detections(P, gappy, today=date(2026, 4, 20))
    assert [(d.kind, d.severity) for d in found] == [(AlertKind.LOW_PDC, Severity.LOW)]
    # 1 Jan - 20 Apr = 110 days; covered 30 + 30 + 20 = 80: 73 %.
    assert found[0].observed == {"pdc": round(80 / 110, 3), "covered_days": 80}
    one_fill = [ClassFill("furosemide", LOOP, date(2026, 4, 1), 30)]
    assert kinds(one_fill, date(2026, 4, 20)) == []  # one fill: not eligible


def test_an_overdue_class_beside_an_open_alert_it_bears_on_is_high_with_both_reasons() -> None:
    fills = [ClassFill("furosemide", LOOP, date(2026, 1, 1), 30)]
    weight = {AlertKind.WEIGHT_GAIN: "Weight 84.0 kg is 2.4 kg above the 81.6 kg measured."}
    linked = refill_detections(P, fills, today=date(2026, 2, 15), open_alerts=weight)
    assert [(d.kind, d.severity) for d in linked] == [(AlertKind.REFILL_OVERDUE, Severity.HIGH)]
    assert "With the open weight_gain alert: Weight 84.0 kg" in linked[0].reason
    # A statin bears on no deterioration alert: still medium.
    statin = [ClassFill("atorvastatin", frozenset({"statins"}), date(2026, 1, 1), 30)]
    alone = refill_detections(P, statin, today=date(2026, 2, 15), open_alerts=weight)
    assert [(d.kind, d.severity) for d in alone] == [(AlertKind.REFILL_OVERDUE, Severity.MEDIUM)]
