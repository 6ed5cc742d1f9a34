"""The alert ledger folds detections and closures as the hub's alert table would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Closure, Detection, Severity
from streaming.alert_ledger import (
    AlertLedger,
    Change,
    Entry,
    Stamp,
    fold,
    group_firings,
)

P, Q = UUID(int=1), UUID(int=2)
T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
W = AlertKind.WEIGHT_GAIN


def stamp(day: float) -> Stamp:
    """Measured on ``day``, received ten minutes later."""
    at = T0 + timedelta(days=day)
    return Stamp(at, at + timedelta(minutes=10))


def found(
    severity: Severity,
    day: float,
    *,
    kind: AlertKind = W,
    patient: UUID = P,
    source: str = "rule:x",
) -> Detection:
    at = T0 + timedelta(days=day)
    return Detection(
        patient, kind, severity, source, None, {}, {}, at, at, f"{source} {severity} {day}"
    )


def closed(day: float, *, kind: AlertKind = W, patient: UUID = P) -> Closure:
    return Closure(patient, kind, T0 + timedelta(days=day), "engine:episode_ended", "back")


def test_a_first_detection_opens_an_alert_with_its_reading_times() -> None:
    ledger = AlertLedger()
    assert ledger.detection(found(Severity.MEDIUM, 2), stamp(2)) is Change.OPENED
    [alert] = ledger.records()
    assert (alert.patient_id, alert.kind, alert.severity) == (P, W, Severity.MEDIUM)
    assert alert.opened == stamp(2)
    assert alert.opened.received_at - alert.opened.measured_at == timedelta(minutes=10)
    assert alert.source == alert.headline_source == "rule:x"
    assert alert.closed is None
    assert alert.escalations == ()
    assert alert.evidence == 1


def test_higher_severity_escalates_the_open_alert_and_becomes_the_headline() -> None:
    ledger = AlertLedger()
    ledger.detection(found(Severity.LOW, 0, source="rule:a"), stamp(0))
    assert ledger.detection(found(Severity.HIGH, 1, source="model:b"), stamp(1)) is (
        Change.ESCALATED
    )
    [alert] = ledger.records()
    assert alert.severity is Severity.LOW  # as opened
    assert alert.max_severity is Severity.HIGH
    [up] = alert.escalations
    assert (up.severity, up.at, up.source) == (Severity.HIGH, stamp(1), "model:b")
    assert (alert.source, alert.headline_source) == ("rule:a", "model:b")
    assert alert.sources == ("model:b", "rule:a")
    assert alert.reached(Severity.MEDIUM) == stamp(1)
    assert alert.reached(Severity.LOW) == stamp(0)
    assert alert.reached(Severity.CRITICAL) is None


def test_lower_severity_is_evidence_only_and_same_severity_moves_the_headline() -> None:
    ledger = AlertLedger()
    ledger.detection(found(Severity.HIGH, 0, source="rule:a"), stamp(0))
    assert ledger.detection(found(Severity.LOW, 1, source="rule:c"), stamp(1)) is Change.EVIDENCE
    [alert] = ledger.records()
    assert alert.headline_source == "rule:a"
    assert ledger.detection(found(Severity.HIGH, 2, source="rule:d"), stamp(2)) is Change.HEADLINE
    [alert] = ledger.records()
    assert alert.escalations == ()
    assert alert.headline_source == "rule:d"
    assert alert.evidence == 3
    assert alert.max_severity is Severity.HIGH


def test_a_closure_resolves_the_alert_with_the_closing_reading_and_reason() -> None:
    ledger = AlertLedger()
    ledger.detection(found(Severity.HIGH, 0), stamp(0))
    record = ledger.closure(closed(4), stamp(4))
    assert record is not None
    assert record.closed is not None
    assert record.closed.at == stamp(4)
    assert (record.closed.source, record.closed.reason) == ("engine:episode_ended", "back")
    assert ledger.records() == [record]
    assert not ledger.is_open(P, W)


def test_a_closure_without_an_open_alert_changes_nothing() -> None:
    ledger = AlertLedger()
    assert ledger.closure(closed(4), stamp(4)) is None
    ledger.detection(found(Severity.HIGH, 5, kind=AlertKind.BP_HIGH), stamp(5))
    assert ledger.closure(closed(6), stamp(6)) is None  # another kind
    [alert] = ledger.records()
    assert alert.closed is None


def test_after_a_closure_the_next_detection_opens_a_new_alert() -> None:
    ledger = AlertLedger()
    ledger.detection(found(Severity.HIGH, 0), stamp(0))
    ledger.closure(closed(3), stamp(3))
    assert ledger.detection(found(Severity.LOW, 10), stamp(10)) is Change.OPENED
    first, second = ledger.records()
    assert first.closed is not None
    assert second.closed is None
    assert (second.opened, second.severity) == (stamp(10), Severity.LOW)


def test_patients_and_kinds_have_alerts_of_their_own_listed_in_opening_order() -> None:
    ledger = AlertLedger()
    ledger.detection(found(Severity.LOW, 0), stamp(0))
    ledger.detection(found(Severity.LOW, 1, patient=Q), stamp(1))
    ledger.detection(found(Severity.LOW, 2, kind=AlertKind.SPO2_LOW), stamp(2))
    ledger.closure(closed(3, patient=Q), stamp(3))  # the second opened, first resolved
    records = ledger.records()
    assert [(r.patient_id, r.kind) for r in records] == [(P, W), (Q, W), (P, AlertKind.SPO2_LOW)]
    assert [r.closed is not None for r in records] == [False, True, False]


def test_fold_below_a_severity_is_the_worklist_that_shows_only_that_severity_and_above() -> None:
    entries: list[Entry] = [
        (found(Severity.LOW, 0), stamp(0)),
        (found(Severity.HIGH, 2), stamp(2)),
        (closed(5), stamp(5)),
        (found(Severity.LOW, 8), stamp(8)),  # a low-only alert: not shown at >= high
        (closed(9), stamp(9)),
    ]
    everything = fold(entries)
    assert [r.opened for r in everything] == [stamp(0), stamp(8)]
    [high] = fold(entries, min_severity=Severity.HIGH)
    assert high.opened == stamp(2)
    assert high.severity is Severity.HIGH
    assert high.closed is not None
    assert high.closed.at == stamp(5)


def test_rule_firings_three_days_apart_at_most_are_one_alert() -> None:
    firings = [
        (found(Severity.HIGH, day, source="rule:rot"), stamp(day)) for day in (0, 1, 4, 7.5, 20)
    ]
    firings += [(found(Severity.HIGH, 2, patient=Q, source="rule:rot"), stamp(2))]
    alerts = group_firings(reversed(firings))  # in any order
    assert [(r.patient_id, r.opened, r.evidence) for r in alerts] == [
        (P, stamp(0), 3),
        (Q, stamp(2), 1),
        (P, stamp(7.5), 1),
        (P, stamp(20), 1),
    ]
    assert all(r.closed is None for r in alerts)
