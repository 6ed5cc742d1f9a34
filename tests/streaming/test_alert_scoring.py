"""Scoring alert records on hand-made cases with known answers, and the equal-rate ratio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hub.alerting import AlertKind, Severity
from streaming.alert_ledger import AlertRecord, Escalation, Stamp
from streaming.alert_scoring import (
    CurvePoint,
    OutcomeEvent,
    frontier,
    ratios_at,
    score_alerts,
    sensitivity_at,
)

P, Q = UUID(int=1), UUID(int=2)
T0 = datetime(2026, 6, 1, tzinfo=UTC)
ADMIT = T0 + timedelta(days=40)
W, BP = AlertKind.WEIGHT_GAIN, AlertKind.BP_HIGH
DECOMP = frozenset({W, AlertKind.SPO2_LOW})


def at(d: float, late_h: float = 0.0) -> Stamp:
    t = ADMIT + timedelta(days=d)
    return Stamp(t, t + timedelta(hours=late_h))


def alert(
    d: float,
    kind: AlertKind = W,
    *,
    patient: UUID = P,
    late_h: float = 0.0,
    escalations: tuple[float, ...] = (),
) -> AlertRecord:
    return AlertRecord(
        patient,
        kind,
        Severity.LOW,
        at(d, late_h),
        "s",
        "r",
        "s",
        "r",
        escalations=tuple(Escalation(Severity.HIGH, at(e), "s2", "r2") for e in escalations),
    )


def decomp(
    onset_d: float | None = None, *, patient: UUID = P, gain: float | None = None
) -> OutcomeEvent:
    onset = None if onset_d is None else ADMIT + timedelta(days=onset_d)
    return OutcomeEvent(patient, "decompensation", ADMIT, DECOMP, onset=onset, gain_kg=gain)


def caught(alerts: list[AlertRecord], event: OutcomeEvent, **kw: object) -> tuple[int, int]:
    card = score_alerts("m", alerts, [event], patient_years=1.0, **kw)  # type: ignore[arg-type]
    k = card.by_event_kind["decompensation"]
    return k.detected, k.detected_with_escalation


@pytest.mark.parametrize(
    ("day", "onset", "hit"),
    [
        (-10, None, True),
        (-30, None, True),  # the window's first instant
        (-30.01, None, False),
        (-1, None, True),  # its last instant
        (-0.99, None, False),
        (-15, -12, False),  # before anything changed
        (-12, -12, True),
        (2, None, False),  # after the admission
    ],
)
def test_an_alert_catches_an_event_when_it_opens_1_to_30_days_before_and_after_onset(
    day: float, onset: float | None, hit: bool
) -> None:
    assert caught([alert(day)], decomp(onset)) == (int(hit), int(hit))


def test_an_alert_of_another_kind_or_patient_catches_nothing() -> None:
    assert caught([alert(-5, BP), alert(-5, patient=Q)], decomp()) == (0, 0)


def test_an_escalation_in_the_window_counts_only_in_the_escalation_variant() -> None:
    early = alert(-45, escalations=(-40, -6))  # opened long before, escalated in the window
    assert caught([early], decomp()) == (0, 1)
    assert caught([alert(-45, escalations=(-0.5,))], decomp()) == (0, 0)


def test_the_clock_chooses_the_time_the_alert_happened() -> None:
    delayed = alert(-3, late_h=60)  # measured 3 days before, received 12 h before admission
    assert caught([delayed], decomp()) == (0, 0)
    assert caught([delayed], decomp(), clock="measured") == (1, 1)


def test_lead_time_is_admission_minus_the_first_matching_opening() -> None:
    card = score_alerts(
        "m",
        [alert(-4), alert(-9, AlertKind.SPO2_LOW), alert(-40)],
        [decomp(), decomp(patient=Q)],
        patient_years=2.0,
    )
    k = card.by_event_kind["decompensation"]
    assert (k.events, k.detected, k.leads, k.median_lead_days) == (2, 1, (9.0,), 9.0)
    assert k.sensitivity == 0.5


def test_unexplained_alerts_and_ppv() -> None:
    alerts = [
        alert(-20),  # onset at -20: explained
        alert(-21, BP),  # before the onset: unexplained (any kind is counted)
        alert(14),  # admission + 14 d: explained
        alert(14.5),  # unexplained
        alert(-5, patient=Q),  # Q has no event: unexplained
    ]
    card = score_alerts("m", alerts, [decomp(-20)], patient_years=4.0)
    assert (card.alerts, card.unexplained) == (5, 3)
    assert card.unexplained_per_patient_year == 0.75
    assert card.ppv == pytest.approx(2 / 5)
    assert card.alerts_by_kind == {"bp_high": 1, "weight_gain": 4}
    no_onset = score_alerts("m", [alert(-14), alert(-14.5)], [decomp()], patient_years=1.0)
    assert no_onset.unexplained == 1  # without an onset, explained from admission - 14 d


def test_events_are_broken_down_by_weight_gain() -> None:
    events = [
        decomp(gain=1.2),
        decomp(patient=Q, gain=3.0),
        OutcomeEvent(UUID(int=3), "decompensation", ADMIT, DECOMP, gain_kg=3.4),
        OutcomeEvent(UUID(int=4), "decompensation", ADMIT, DECOMP),  # gain unknown
    ]
    card = score_alerts("m", [alert(-5, patient=Q)], events, patient_years=1.0)
    bands = {b.label: (b.events, b.detected) for b in card.by_event_kind["decompensation"].by_gain}
    assert bands == {"gain < 1.5 kg": (1, 0), "gain 2.5-3.5 kg": (2, 1)}


# -- the curve ---------------------------------------------------------------------------------

OURS = [
    CurvePoint("ours", "a", 0.4, 0.5),
    CurvePoint("ours", "b", 0.6, 1.0),
    CurvePoint("ours", "c", 0.55, 1.8),  # dominated by b
    CurvePoint("ours", "d", 0.7, 2.0),
]
RULE = [CurvePoint("rule", "1", 0.5, 3.0), CurvePoint("rule", "2", 0.2, 1.0)]


def test_the_frontier_keeps_the_points_no_other_beats() -> None:
    assert frontier(OURS) == [(0.0, 0.0), (0.5, 0.4), (1.0, 0.6), (2.0, 0.7)]
    assert frontier(RULE) == [(0.0, 0.0), (1.0, 0.2), (3.0, 0.5)]
    assert frontier([]) == [(0.0, 0.0)]


def test_sensitivity_is_read_by_linear_interpolation_and_never_extrapolated() -> None:
    assert sensitivity_at(OURS, 0.25) == pytest.approx(0.2)  # from (0, 0)
    assert sensitivity_at(OURS, 1.5) == pytest.approx(0.65)
    assert sensitivity_at(OURS, 2.0) == pytest.approx(0.7)
    assert sensitivity_at(OURS, 2.01) is None
    assert sensitivity_at([], 1.0) is None
    quiet = [CurvePoint("m", "never wrong", 0.8, 0.0)]
    assert (sensitivity_at(quiet, 0.0), sensitivity_at(quiet, 0.1)) == (0.8, None)


def test_the_headline_ratio_at_equal_false_alert_rates() -> None:
    got = {r.rate: (r.ours, r.theirs, r.ratio) for r in ratios_at(OURS, RULE, [0.5, 1.5, 2.5])}
    assert got[0.5] == pytest.approx((0.4, 0.1, 4.0))
    ours, theirs, ratio = got[1.5]
    assert (ours, theirs) == pytest.approx((0.65, 0.275))
    assert ratio == pytest.approx(0.65 / 0.275)
    assert got[2.5][0] is None
    assert got[2.5][2] is None
    zero = ratios_at(OURS, [CurvePoint("rule", "x", 0.0, 1.0)], [0.5])[0]
    assert (zero.theirs, zero.ratio) == (0.0, None)
