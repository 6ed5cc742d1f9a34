"""The worklist's priority formula on hand-built patients (alerts/priority.py).

Every patient and alert here is made up. Each case names the rule of the
module docstring it checks; the property tests check the band rule for any
mix of the other terms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.priority import (
    AGE_CAP_HOURS,
    BAND,
    NOTICE_POINTS,
    Deadline,
    Notice,
    OpenAlert,
    PatientFacts,
    rank,
    score,
    severity_counts,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def alert(
    severity: str = "high",
    hours: float = 1.0,
    *,
    kind: str = "weight_gain",
    status: str = "open",
    reason: str = "Weight up 2.4 kg in 72 h (limit 2.0 kg).",
    snoozed_for: float | None = None,
) -> OpenAlert:
    snoozed = None if snoozed_for is None else NOW + timedelta(hours=snoozed_for)
    return OpenAlert(kind, severity, status, reason, NOW - timedelta(hours=hours), snoozed)


def patient(
    n: int,
    *alerts: OpenAlert,
    risk: float | None = 0.2,
    high_risk: bool = False,
    days: int | None = None,
    pathway: str = "CHF",
    deadlines: tuple[Deadline, ...] = (),
    notices: tuple[Notice, ...] = (),
) -> PatientFacts:
    discharged = None if days is None else TODAY - timedelta(days=days)
    lace = None if risk is None else round(risk * 19)
    hospital = None if risk is None else round(risk * 13)
    return PatientFacts(
        UUID(int=n),
        pathway,
        discharged,
        risk,
        lace,
        hospital,
        high_risk,
        tuple(alerts),
        TODAY,
        deadlines,
        notices,
    )


def deadline(days: int, name: str = "TCM interactive contact") -> Deadline:
    """Due ``days`` after today (negative: overdue), running out at the next UTC midnight."""
    due = TODAY + timedelta(days=days)
    return Deadline(name, due, datetime.combine(due + timedelta(days=1), time(), UTC))


def order(*patients: PatientFacts) -> list[int]:
    return [s.patient_id.int for s in rank(patients, now=NOW)]


def test_a_critical_alert_comes_before_the_highest_discharge_risk() -> None:
    top_risk = patient(1, risk=1.0, high_risk=True, days=0)  # every other term at its most
    critical = patient(2, alert("critical", hours=0), risk=0.0)
    assert order(top_risk, critical) == [2, 1]


def test_a_high_alert_comes_before_any_patient_without_one() -> None:
    loaded = patient(
        1,
        alert("medium", hours=200),
        alert("low", kind="refill_overdue", reason="Loop diuretics: furosemide ran out."),
        alert("low", kind="missed_readings", reason="No body-weight reading for 50 h."),
        alert("low", kind="low_pdc", reason="Statins: 50 of 90 days covered (PDC 56%)."),
        risk=1.0,
        high_risk=True,
        days=0,
    )
    high = patient(2, alert("high", hours=0), risk=0.0)
    assert order(loaded, high) == [2, 1]


def test_an_older_alert_of_the_same_severity_comes_first() -> None:
    newer = patient(1, alert("high", hours=2))
    older = patient(2, alert("high", hours=10))
    assert order(newer, older) == [2, 1]


def test_alert_age_stops_counting_after_48_hours_and_ties_go_to_the_older() -> None:
    two_days = patient(1, alert("critical", hours=AGE_CAP_HOURS))
    a_week = patient(2, alert("critical", hours=24 * 7))
    assert score(two_days, now=NOW).priority == score(a_week, now=NOW).priority
    assert order(two_days, a_week) == [2, 1]


def test_an_acknowledged_alert_counts_one_level_lower() -> None:
    acked_critical = patient(1, alert("critical", hours=5, status="acknowledged"))
    open_high = patient(2, alert("high", hours=1))
    open_critical = patient(3, alert("critical", hours=1))
    # Acknowledged critical = high level: same band as the open high, and older.
    assert order(acked_critical, open_high, open_critical) == [3, 1, 2]
    assert (
        score(acked_critical, now=NOW)
        .reasons[0]
        .startswith("Critical alert (acknowledged) open 5 h:")
    )


def test_a_snoozed_alert_does_not_count_until_the_snooze_ends() -> None:
    snoozed = patient(1, alert("critical", hours=3, snoozed_for=2))
    ended = patient(2, alert("critical", hours=3, snoozed_for=-1))
    assert score(snoozed, now=NOW).band == 0
    assert score(ended, now=NOW).band == 3
    assert score(snoozed, now=NOW).reasons[-1] == "1 alert snoozed"
    counts = severity_counts(snoozed.alerts, now=NOW)
    assert (counts["critical"], counts["snoozed"]) == (0, 1)


def test_without_alerts_risk_then_non_adherence_then_early_days_decide() -> None:
    high_risk = patient(1, risk=0.7, high_risk=True)
    refill = patient(
        2, alert("medium", kind="refill_overdue", reason="Loop diuretics: ran out."), risk=0.3
    )
    early = patient(3, risk=0.3, days=2)
    nothing = patient(4, risk=0.3)
    assert order(nothing, early, refill, high_risk) == [1, 3, 2, 4]
    # 100 * 0.7 + 100 = 170; 100 * 0.3 + 120 * (1 - 2/30) = 142; 30 + 80 = 110; 30.
    assert [score(p, now=NOW).priority for p in (high_risk, early, refill, nothing)] == [
        170.0,
        142.0,
        110.0,
        30.0,
    ]


def test_medium_and_low_clinical_alerts_weigh_within_the_lowest_band() -> None:
    medium = patient(1, alert("medium", hours=1), risk=0.0)
    low = patient(2, alert("low", hours=1), risk=0.0)
    assert [score(p, now=NOW).priority for p in (medium, low)] == [155.0, 55.0]
    assert order(low, medium) == [1, 2]


def test_non_adherence_alerts_raise_flags_not_bands() -> None:
    facts = patient(
        1,
        alert("high", kind="refill_overdue", reason="Loop diuretics: furosemide ran out."),
        alert("medium", kind="gateway_offline", reason="gateway gw-x offline for 30 h"),
        alert("low", kind="low_pdc", reason="Beta-blockers: 40 of 90 days (PDC 44%, adherent)."),
    )
    scored = score(facts, now=NOW)
    assert scored.band == 0
    assert scored.flags == {"refill_overdue": True, "missed_readings": True, "low_pdc": True}
    assert scored.reasons == (
        "Refill overdue: Loop diuretics",
        "Missed readings: gateway gw-x offline for 30 h",
        "Low PDC: Beta-blockers (44%)",
        "Discharge risk 0.20 (LACE 4, HOSPITAL 3)",
    )


def test_reasons_say_why_in_words_heaviest_first() -> None:
    facts = patient(
        1,
        alert("critical", hours=3, kind="spo2_low", reason="SpO2 86% (limit 88%)."),
        alert("medium", hours=30, kind="weight_gain"),
        alert("low", kind="refill_overdue", reason="Loop diuretics: furosemide 40 MG ran out."),
        risk=12 / 19,
        high_risk=True,
        days=4,
    )
    facts = replace(facts, lace=12, hospital=7)
    assert score(facts, now=NOW).reasons == (
        "Critical alert open 3 h: SpO2 86% (limit 88%).",
        "High discharge risk (LACE 12, HOSPITAL 7)",
        "Day 4 after discharge",
        "Refill overdue: Loop diuretics",
        "1 more alert open (1 medium)",
    )


def test_a_long_alert_reason_is_cut_short() -> None:
    scored = score(patient(1, alert("high", reason="word " * 60)), now=NOW)
    assert len(scored.reasons[0]) < 130
    assert scored.reasons[0].endswith("…")


def test_days_after_discharge_count_in_the_pathway_window_only() -> None:
    assert score(patient(1, days=4), now=NOW).reasons[0] == "Day 4 after discharge"
    for days in (30, 45, -2):
        assert not any(
            "after discharge" in r for r in score(patient(1, days=days), now=NOW).reasons
        )
    assert score(patient(1, days=-2), now=NOW).days_since_discharge == -2


def test_a_patient_without_scores_says_so_last() -> None:
    scored = score(patient(1, alert("high"), risk=None), now=NOW)
    assert scored.reasons[-1] == "No discharge risk score (inputs missing at enrollment)"


@dataclass(frozen=True)
class Others:
    """Everything but the lead alert's band: drawn at random by the property tests."""

    risk: float | None
    high_risk: bool
    days: int | None
    hours: float
    adherence: list[str]
    acknowledged: bool
    #: A deadline due this many days from today (negative: overdue), if any.
    deadline: int | None
    notices: int

    def facts(self, n: int, severity: str | None) -> PatientFacts:
        reason = "Statins: 50 of 90 days covered (PDC 56%)."
        alerts = [alert("medium", kind=kind, reason=reason) for kind in self.adherence]
        if severity is not None:
            status = "acknowledged" if self.acknowledged else "open"
            alerts.append(alert(severity, self.hours, status=status))
        return patient(
            n,
            *alerts,
            risk=self.risk,
            high_risk=self.high_risk,
            days=self.days,
            deadlines=() if self.deadline is None else (deadline(self.deadline),),
            notices=tuple(Notice("device_days", "needs 6 more days in 8", NOW)
                          for _ in range(self.notices)),
        )  # fmt: skip


others = st.builds(
    Others,
    risk=st.one_of(st.none(), st.floats(0, 1)),
    high_risk=st.booleans(),
    days=st.one_of(st.none(), st.integers(-5, 60)),
    hours=st.floats(0, 24 * 30),
    adherence=st.lists(st.sampled_from(["refill_overdue", "missed_readings", "low_pdc"])),
    acknowledged=st.booleans(),
    deadline=st.one_of(st.none(), st.integers(-5, 14)),
    notices=st.integers(0, 2),
)


@given(a=others, b=others, c=others)
def test_a_higher_band_always_wins_whatever_the_other_terms(
    a: Others, b: Others, c: Others
) -> None:
    """Critical alert > pressing deadline (with any alert below critical) > high alert > none."""
    critical = score(replace(a, acknowledged=False).facts(1, "critical"), now=NOW)
    pressing = replace(b, deadline=min(b.deadline or 0, 0))
    due = score(pressing.facts(2, "high"), now=NOW)
    not_due = replace(c, deadline=None if c.deadline is None else abs(c.deadline) + 1)
    high = score(replace(not_due, acknowledged=False).facts(3, "high"), now=NOW)
    calm = score(not_due.facts(4, None), now=NOW)
    assert critical.priority > due.priority > high.priority > calm.priority
    for scored in (critical, due, high, calm):
        # the terms below a band stay below it
        assert 0 <= scored.priority - BAND * scored.band < BAND, scored


@given(x=others, older=st.floats(0.5, 47))
def test_alert_age_only_ever_raises_priority(x: Others, older: float) -> None:
    young = score(replace(x, hours=0.0).facts(1, "high"), now=NOW)
    aged = score(replace(x, hours=older).facts(1, "high"), now=NOW)
    if x.deadline is not None and x.deadline <= 0:
        # A pressing deadline leads: its age counts, the alert's does not.
        assert aged.priority == young.priority
    else:
        assert aged.priority > young.priority


@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low"])
def test_counts_cover_every_open_alert(severity: str) -> None:
    alerts = (alert(severity), alert(severity, status="acknowledged"), alert("low", kind="low_pdc"))
    counts = severity_counts(alerts, now=NOW)
    assert counts[severity] == 2 + (severity == "low")
    assert counts["acknowledged"] == 1


def test_an_overdue_refill_beside_the_alert_it_bears_on_weighs_more_and_says_both() -> None:
    """Linked to vitals (#4): no loop diuretic while weight climbs."""
    gain = alert("medium", 5.0)
    linked = alert(
        "high",
        2.0,
        kind="refill_overdue",
        reason="Loop diuretics: furosemide last filled 2026-10-01 for 30 days ran out on"
        " 2026-10-31: 20 days without supply (grace 7). With the open weight_gain alert:"
        " Weight up 2.4 kg in 72 h (limit 2.0 kg).",
    )
    unlinked = alert(
        "medium",
        2.0,
        kind="refill_overdue",
        reason="Statins: atorvastatin last filled 2026-10-01 for 30 days ran out on 2026-10-31:"
        " 20 days without supply (grace 7).",
    )
    with_link, without = patient(1, gain, linked), patient(2, gain, unlinked)
    assert [s.patient_id.int for s in rank([without, with_link], now=NOW)] == [1, 2]
    assert score(with_link, now=NOW).priority - score(without, now=NOW).priority == 80
    sentences = score(with_link, now=NOW).reasons
    assert any(
        s.startswith("Refill overdue: Loop diuretics, with the open weight_gain alert: Weight up")
        for s in sentences
    ), sentences
    assert any(s.startswith("Medium alert open 5 h: Weight up") for s in sentences)


def test_an_overdue_deadline_comes_after_a_critical_alert_and_before_a_high_one() -> None:
    critical = patient(1, alert("critical", hours=0), risk=0.0)
    overdue = patient(2, risk=0.0, deadlines=(deadline(-1),))
    high = patient(3, alert("high", hours=40), risk=1.0, high_risk=True, days=0)
    due_today = patient(4, risk=0.0, deadlines=(deadline(0),))
    assert order(high, due_today, overdue, critical) == [1, 2, 4, 3]
    # A day overdue: 2000 + 5 * 36 h since its last day began (NOW is noon).
    assert score(overdue, now=NOW).priority == 2000 + 5 * 36
    assert score(overdue, now=NOW).reasons[0] == (
        "TCM interactive contact overdue 12 h, was due Thu 19 Nov"
    )
    assert score(due_today, now=NOW).reasons[0] == "TCM interactive contact due today, 12 h left"


def test_a_deadline_not_yet_due_adds_nothing_but_says_the_time_left() -> None:
    later = patient(1, risk=0.3, deadlines=(deadline(3, "TCM face-to-face visit"),))
    assert score(later, now=NOW).priority == score(patient(2, risk=0.3), now=NOW).priority
    assert score(later, now=NOW).band == 0
    assert score(later, now=NOW).reasons[-1] == "TCM face-to-face visit due Mon 23 Nov, 3 d left"


def test_under_a_pressing_deadline_an_alert_counts_its_level_not_its_age() -> None:
    medium = patient(1, alert("medium", hours=30), risk=0.0, deadlines=(deadline(0),))
    # 2000 + 5 * 12 h of the deadline's last day + 150 for a medium alert.
    assert score(medium, now=NOW).priority == 2000 + 60 + 150
    assert score(medium, now=NOW).reasons[:2] == (
        "TCM interactive contact due today, 12 h left",
        "Medium alert open 30 h: Weight up 2.4 kg in 72 h (limit 2.0 kg).",
    )


def test_notices_weigh_a_little_once_and_each_says_its_sentence() -> None:
    texts = ("Device days: needs 6 more days in 8 for 99454", "RPM time: 14 min; 6 more for 99457")
    two = patient(1, risk=0.0, notices=tuple(Notice("forecast", t, NOW) for t in texts))
    scored = score(two, now=NOW)
    assert scored.priority == NOTICE_POINTS
    assert scored.reasons[0] == texts[0]
    assert texts[1] in scored.reasons
    # Below a low clinical alert.
    assert order(two, patient(2, alert("low"), risk=0.0)) == [2, 1]
