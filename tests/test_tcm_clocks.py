"""Transitional-care clocks over the real database: the worklist's deadlines and order,
the missed-deadline alerts (opened once, pushed, resolved by the milestone or the end).

Hand-worked dates. Friday 16 January 2026 is a discharge before a Monday federal
holiday (Martin Luther King Jr. Day, 19 January): the business days after it are
Tuesday 20 and Wednesday 21, so the interactive contact is due by the end of
Wednesday 21 January; in Chicago (UTC-6 in January) that runs out at 06:00 UTC
on the 22nd. High complexity: the visit is due by day 7, Friday 23 January
(runs out 24 January 06:00 UTC), and a visit by day 14, Friday 30 January,
still bills 99495. The 30-day service period ends on day 29, 14 February.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from alerts.lifecycle import resolve
from flows.care_progress import care_progress
from flows.tcm_alerts import run_tcm_checks, settle_tcm_alerts
from flows.tcm_clocks import CONTACT, VISIT, tcm_deadlines
from flows.worklist import build_worklist
from hub.care_programs import Complexity, DischargeSetting
from programs.episodes import end_episode, record
from programs.models import milestones
from tests.care_support import coordinator_with_push, outbox, patient, tcm_episode

pytestmark = pytest.mark.services

CHICAGO = "America/Chicago"
FRIDAY = date(2026, 1, 16)
CONTACT_RUNS_OUT = datetime(2026, 1, 22, 6, tzinfo=UTC)
VISIT_RUNS_OUT = datetime(2026, 1, 24, 6, tzinfo=UTC)
ENROLLED = datetime(2026, 1, 16, 20, tzinfo=UTC)


def _alerts(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT kind, severity, status FROM alerts ORDER BY id").fetchall()
    return [(str(k), str(s), str(st)) for k, s, st in rows]


def _discharged(
    conn: psycopg.Connection[Any], complexity: Complexity | None = Complexity.HIGH
) -> tuple[UUID, UUID, int]:
    cora = coordinator_with_push(conn, "cora", ENROLLED)
    who = patient(conn, timezone=CHICAGO, coordinator=cora)
    episode = tcm_episode(
        conn, who, cora, discharged_on=FRIDAY, now=ENROLLED, complexity=complexity
    )
    return cora, who, episode.id


def test_a_friday_discharge_before_a_monday_holiday_is_due_on_wednesday(
    conn: psycopg.Connection[Any],
) -> None:
    _, who, _ = _discharged(conn)
    now = datetime(2026, 1, 20, 15, tzinfo=UTC)  # Tuesday 09:00 in Chicago
    contact, visit = tcm_deadlines(conn, patient_ids=[who], now=now)[who]
    assert (contact.name, contact.due, contact.due_at) == (
        "TCM interactive contact",
        date(2026, 1, 21),
        CONTACT_RUNS_OUT,
    )
    assert (visit.name, visit.due, visit.due_at) == (
        "TCM face-to-face visit",
        date(2026, 1, 23),
        VISIT_RUNS_OUT,
    )
    assert visit.note == (
        "7 days, high complexity (99496); discharged Fri 16 Jan 2026;"
        " a visit by Fri 30 Jan 2026 still bills 99495"
    )
    # 39 hours left on Tuesday morning; nothing pressing yet.
    assert contact.sentence(now, date(2026, 1, 20)) == (
        "TCM interactive contact due Wed 21 Jan, 39 h left"
        " (2 business days; discharged Fri 16 Jan 2026)"
    )
    progress = care_progress(conn, patient_id=who, now=now)
    (clocks,) = progress.tcm
    assert clocks.period_ends == date(2026, 2, 14)
    assert [(c.status, c.due) for c in clocks.clocks] == [
        ("open", date(2026, 1, 21)),
        ("open", date(2026, 1, 23)),
    ]


def test_a_holiday_on_a_saturday_is_observed_on_the_friday(
    conn: psycopg.Connection[Any],
) -> None:
    """Thursday 2 July 2026: Friday 3 July is Independence Day observed (the 4th is a
    Saturday); the business days after are Monday 6 and Tuesday 7."""
    cora = make_cora(conn)
    who = patient(conn, timezone="America/New_York", coordinator=cora)
    at = datetime(2026, 7, 2, 20, tzinfo=UTC)
    tcm_episode(conn, who, cora, discharged_on=date(2026, 7, 2), now=at)
    contact, _ = tcm_deadlines(conn, patient_ids=[who], now=at)[who]
    # Midnight after Tuesday 7 July in New York (UTC-4 in summer).
    assert (contact.due, contact.due_at) == (date(2026, 7, 7), datetime(2026, 7, 8, 4, tzinfo=UTC))


def make_cora(conn: psycopg.Connection[Any]) -> UUID:
    return coordinator_with_push(conn, "cora", ENROLLED)


def _alert_row(
    conn: psycopg.Connection[Any], patient_id: UUID, severity: str, at: datetime
) -> None:
    conn.execute(
        "INSERT INTO alerts (patient_id, kind, severity, status, source, reason, opened_at,"
        " updated_at) VALUES (%s, 'weight_gain', %s, 'open', 'rule:test',"
        " 'Weight up 2.4 kg in 72 h (limit 2.0 kg).', %s, %s)",
        (patient_id, severity, at, at),
    )


def test_an_overdue_contact_ranks_below_a_critical_alert_and_above_a_high_one(
    conn: psycopg.Connection[Any],
) -> None:
    cora, overdue, episode = _discharged(conn)
    now = CONTACT_RUNS_OUT + timedelta(hours=6)  # Thursday 06:00 in Chicago
    critical = patient(conn, timezone=CHICAGO, coordinator=cora)
    high = patient(conn, timezone=CHICAGO, coordinator=cora)
    calm = patient(conn, timezone=CHICAGO, coordinator=cora)
    _alert_row(conn, critical, "critical", now - timedelta(minutes=5))
    _alert_row(conn, high, "high", now - timedelta(hours=47))
    built = build_worklist(conn, user_id=cora, all_patients=False, now=now, limit=10)
    assert [r.facts.patient_id for r in built.rows] == [critical, overdue, high, calm]
    row = built.rows[1]
    # Band 2, and 5 points an hour since the start of its last day (30 h): 2150.
    assert (row.scored.band, row.scored.priority) == (2, 2150.0)
    assert row.scored.reasons[0] == (
        "TCM interactive contact overdue 6 h, was due Wed 21 Jan"
        " (2 business days; discharged Fri 16 Jan 2026)"
    )
    assert row.scored.reasons[1].startswith("TCM face-to-face visit due Fri 23 Jan, 42 h left")
    # The contact recorded, the visit (due tomorrow) ranks nothing: below the high alert.
    record(
        conn,
        patient_id=overdue,
        episode_id=episode,
        statements=milestones(first_contact_at=now - timedelta(hours=1)),
        actor=cora,
        now=now,
    )
    built = build_worklist(conn, user_id=cora, all_patients=False, now=now, limit=10)
    assert [r.facts.patient_id for r in built.rows][:2] == [critical, high]
    (met,) = [r for r in built.rows if r.facts.patient_id == overdue]
    assert (met.scored.band, met.scored.priority) == (0, 0.0)
    assert [d.name for d in met.facts.deadlines] == ["TCM face-to-face visit"]


def test_a_missed_contact_opens_its_alert_once_pushed_with_its_reasons(
    conn: psycopg.Connection[Any],
) -> None:
    _, who, episode = _discharged(conn)
    assert run_tcm_checks(conn, now=CONTACT_RUNS_OUT - timedelta(minutes=1)) == 0
    assert run_tcm_checks(conn, now=CONTACT_RUNS_OUT + timedelta(minutes=6)) == 1
    assert run_tcm_checks(conn, now=CONTACT_RUNS_OUT + timedelta(minutes=11)) == 0
    assert _alerts(conn) == [("tcm_contact_missed", "medium", "open")]
    evidence = conn.execute(
        "SELECT e.source, e.reason, e.observed, e.baseline, e.window_start, e.window_end"
        " FROM alert_evidence e"
    ).fetchall()
    assert evidence == [
        (
            "rule:tcm_contact_2_business_days",
            "No interactive contact recorded by Wed 21 Jan 2026: due within 2 business days"
            " of the discharge on Fri 16 Jan 2026.",
            {"episode_id": episode, "hours_overdue": 0.1},
            {"due_days_after_discharge": 5},
            datetime(2026, 1, 16, 6, tzinfo=UTC),
            CONTACT_RUNS_OUT,
        )
    ]
    # Medium: pushed to the patient's coordinator with normal urgency.
    assert outbox(conn) == [("tcm_contact_missed", "normal")]
    # Resolved by hand, it is not opened again for the same deadline.
    alert_id = conn.execute("SELECT id FROM alerts").fetchone()
    assert alert_id is not None
    resolve(conn, alert_id=alert_id[0], actor=None, now=CONTACT_RUNS_OUT + timedelta(hours=1))
    assert run_tcm_checks(conn, now=CONTACT_RUNS_OUT + timedelta(hours=2)) == 0
    assert len(_alerts(conn)) == 1
    assert tcm_deadlines(conn, patient_ids=[who], now=CONTACT_RUNS_OUT)[who][0].name == (
        "TCM interactive contact"
    )


def test_a_late_contact_resolves_the_alert_automatically_and_the_deadline_goes(
    conn: psycopg.Connection[Any],
) -> None:
    cora, who, episode = _discharged(conn)
    run_tcm_checks(conn, now=CONTACT_RUNS_OUT + timedelta(hours=3))
    late = datetime(2026, 1, 22, 15, tzinfo=UTC)
    contact = milestones(first_contact_at=late)
    record(conn, patient_id=who, episode_id=episode, statements=contact, actor=cora, now=late)
    assert settle_tcm_alerts(conn, patient_id=who, now=late) == 1
    assert _alerts(conn) == [("tcm_contact_missed", "medium", "resolved")]
    event = conn.execute(
        "SELECT actor_id, note, detail FROM alert_events WHERE event = 'resolved_automatically'"
    ).fetchone()
    cleared = "the interactive contact was recorded (2026-01-22 15:00 UTC, after its deadline"
    assert event is not None
    assert event[0] is None  # the hub's
    assert event[1].startswith(cleared)
    assert event[2]["cleared_by"] == event[1]
    deadlines = tcm_deadlines(conn, patient_ids=[who], now=late)[who]
    assert [d.name for d in deadlines] == ["TCM face-to-face visit"]
    statuses = [c.status for c in care_progress(conn, patient_id=who, now=late).tcm[0].clocks]
    assert statuses == ["met_late", "open"]


def test_a_missed_visit_says_what_still_bills_and_the_end_of_the_episode_resolves_it(
    conn: psycopg.Connection[Any],
) -> None:
    cora, who, episode = _discharged(conn)
    now = VISIT_RUNS_OUT + timedelta(hours=1)
    assert run_tcm_checks(conn, now=now) == 2  # the contact and the visit
    reason = conn.execute("SELECT reason FROM alerts WHERE kind = 'tcm_visit_missed'").fetchone()
    assert reason == (
        "No face-to-face visit recorded by Fri 23 Jan 2026: due within 7 days, high complexity"
        " (99496) of the discharge on Fri 16 Jan 2026; a visit by Fri 30 Jan 2026 still bills"
        " 99495.",
    )
    end_episode(
        conn, patient_id=who, episode_id=episode, ended_on=date(2026, 1, 24), actor=cora, now=now
    )
    assert settle_tcm_alerts(conn, patient_id=who, now=now) == 2
    notes = conn.execute(
        "SELECT DISTINCT note FROM alert_events WHERE event = 'resolved_automatically'"
    ).fetchall()
    assert notes == [("no transitional-care episode is open",)]
    assert tcm_deadlines(conn, patient_ids=[who], now=now) == {}


def test_the_clocks_stop_with_the_30_day_service_period(conn: psycopg.Connection[Any]) -> None:
    _, who, _ = _discharged(conn, complexity=None)
    run_tcm_checks(conn, now=datetime(2026, 2, 14, 12, tzinfo=UTC))
    assert {k for k, _, s in _alerts(conn) if s == "open"} == {
        "tcm_contact_missed",
        "tcm_visit_missed",
    }
    # Sunday 15 February in Chicago: day 30.
    after = datetime(2026, 2, 15, 12, tzinfo=UTC)
    assert tcm_deadlines(conn, patient_ids=[who], now=after) == {}
    run_tcm_checks(conn, now=after)
    assert {s for _, _, s in _alerts(conn)} == {"resolved"}
    note = conn.execute(
        "SELECT DISTINCT note FROM alert_events WHERE event = 'resolved_automatically'"
    ).fetchall()
    assert note == [("the 30-day transitional-care period ended on 2026-02-14",)]


def test_without_a_complexity_the_seven_day_deadline_applies(
    conn: psycopg.Connection[Any],
) -> None:
    _, who, _ = _discharged(conn, complexity=None)
    _, visit = tcm_deadlines(conn, patient_ids=[who], now=ENROLLED)[who]
    assert (visit.due, visit.note) == (
        date(2026, 1, 23),
        "7 days until the complexity is recorded; discharged Fri 16 Jan 2026;"
        " a visit by Fri 30 Jan 2026 still bills 99495",
    )


@pytest.mark.parametrize(
    ("setting", "clocks"),
    [
        (DischargeSetting.INPATIENT_REHABILITATION, [CONTACT, VISIT]),
        (DischargeSetting.LONG_TERM_CARE_HOSPITAL, [CONTACT, VISIT]),
        (DischargeSetting.EMERGENCY_DEPARTMENT, []),
    ],
    ids=["rehabilitation", "long-term-care", "emergency-department"],
)
def test_the_setting_recorded_is_the_one_the_rules_judge(
    conn: psycopg.Connection[Any], setting: DischargeSetting, clocks: list[str]
) -> None:
    """One vocabulary (hub.care_programs): a setting the rules list runs the clocks with no
    mapping in between; an emergency department visit, which they do not list, runs none."""
    cora = make_cora(conn)
    who = patient(conn, timezone=CHICAGO, coordinator=cora)
    tcm_episode(conn, who, cora, discharged_on=FRIDAY, now=ENROLLED, setting=setting)
    found = tcm_deadlines(conn, patient_ids=[who], now=ENROLLED).get(who, ())
    assert [d.name for d in found] == clocks
