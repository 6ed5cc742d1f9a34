"""The daily billing forecast over the real database: low notices that appear, update,
clear themselves, and never push.

Hand-worked. An RPM episode from Sunday 1 March 2026, a patient in New York:
its first 30-day period is 1-30 March. Sensed weights on 1-10 March (10 days)
and typed-in ones on 11-15 March (they do not count). On Monday 23 March, with
no reading yet that day, the days left are 23-30 (8), and 99454's 16 days need
6 more: 6 of 8 is 75 %, at least 60 %, so at risk: "needs 6 more days in 8".
With readings on 23 and 24 March, on the 24th: 12 days, 6 left (25-30, today
has data), 4 needed, 67 %: still at risk. With 25 and 26 too, on the 26th:
14 days, 4 left, 2 needed, 50 %: no longer.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from alerts.notices import NoticeKind
from flows.care_progress import care_progress
from flows.forecasts import PassResult, run_forecast_pass
from flows.scheduler import AdherenceScheduler
from flows.worklist import build_worklist
from hub.care_programs import ProgramKind
from hub.settings import Settings
from programs.episodes import end_episode
from programs.models import Activity, Work
from programs.timelog import log_time, span_of
from tests.care_support import (
    coordinator_with_push,
    device,
    outbox,
    patient,
    program_episode,
    reading,
    tcm_episode,
)
from tests.support import wait_until

pytestmark = pytest.mark.services

NEW_YORK = "America/New_York"
TCM_ALERTS = "SELECT kind FROM alerts WHERE kind IN ('tcm_contact_missed', 'tcm_visit_missed')"
START = date(2026, 3, 1)
MARCH_23 = datetime(2026, 3, 23, 15, tzinfo=UTC)  # 11:00 in New York


def at(day: int, hour: int = 14) -> datetime:
    """``hour`` UTC on ``day`` March 2026 (the same day in New York)."""
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _notices(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str | None]]:
    rows = conn.execute(
        "SELECT kind, text, cleared_reason FROM worklist_notices ORDER BY id"
    ).fetchall()
    return [(str(k), str(t), r) for k, t, r in rows]


def _measuring(conn: psycopg.Connection[Any]) -> tuple[UUID, UUID, str, int]:
    """A coordinator (subscribed to pushes), the patient, the scale, the RPM episode."""
    cora = coordinator_with_push(conn, "cora", at(1))
    who = patient(conn, timezone=NEW_YORK, coordinator=cora)
    episode = program_episode(
        conn, who, cora, kind=ProgramKind.RPM, started_on=START, now=at(1), consent=False
    )
    scale = device(conn, who)
    for day in range(1, 11):
        reading(conn, scale, at(day))
    for day in range(11, 16):
        reading(conn, scale, at(day), modality="self-reported")
    return cora, who, scale, episode.id


def test_needs_6_more_days_in_8_is_a_low_notice_that_never_pushes(
    conn: psycopg.Connection[Any],
) -> None:
    cora, who, _, _ = _measuring(conn)
    assert run_forecast_pass(conn, now=MARCH_23) == PassResult(opened=1, updated=0, cleared=0)
    text = "Device days: needs 6 more days in 8 for 99454 (99445 reached)"
    assert _notices(conn) == [("device_days", text, None)]
    (row,) = build_worklist(conn, user_id=cora, all_patients=False, now=MARCH_23, limit=5).rows
    assert [(n.kind, n.text) for n in row.facts.notices] == [("device_days", text)]
    assert text in row.scored.reasons
    assert row.scored.priority == 20.0
    # Not an alert, nothing in the push outbox, and the same pass again opens nothing.
    assert conn.execute("SELECT count(*) FROM alerts").fetchone() == (0,)
    assert outbox(conn) == []
    assert run_forecast_pass(conn, now=MARCH_23 + timedelta(hours=1)).opened == 0
    assert len(_notices(conn)) == 1
    progress = care_progress(conn, patient_id=who, now=MARCH_23).programs[0]
    assert progress.period is not None
    assert (progress.period.days, progress.period.target_days, progress.period.days_left) == (
        10,
        16,
        8,
    )
    assert progress.period.at_risk


def test_the_notice_follows_the_days_that_arrive_and_clears_itself(
    conn: psycopg.Connection[Any],
) -> None:
    cora, _, scale, _ = _measuring(conn)
    run_forecast_pass(conn, now=MARCH_23)
    for day in (23, 24):
        reading(conn, scale, at(day))
    assert run_forecast_pass(conn, now=at(24, 20)) == PassResult(0, 1, 0)
    assert _notices(conn) == [
        ("device_days", "Device days: needs 4 more days in 6 for 99454 (99445 reached)", None)
    ]
    for day in (25, 26):
        reading(conn, scale, at(day))
    assert run_forecast_pass(conn, now=at(26, 20)) == PassResult(0, 0, 1)
    assert _notices(conn) == [
        (
            "device_days",
            "Device days: needs 4 more days in 6 for 99454 (99445 reached)",
            "no longer at risk: needs 2 more days in 4 for 99454 (99445 reached)",
        )
    ]
    (row,) = build_worklist(conn, user_id=cora, all_patients=False, now=at(26, 20), limit=5).rows
    assert row.facts.notices == ()
    assert outbox(conn) == []


def test_the_notice_clears_when_its_period_ends_or_the_episode_does(
    conn: psycopg.Connection[Any],
) -> None:
    cora, who, _, episode = _measuring(conn)
    run_forecast_pass(conn, now=at(29))  # needs 6 in 2: out of reach, 99445 reached: none
    assert _notices(conn) == []
    run_forecast_pass(conn, now=MARCH_23)
    # 31 March is the first day of the second period: 16 needed in 30 (53 %), not at risk.
    assert run_forecast_pass(conn, now=at(31)) == PassResult(0, 0, 1)
    assert _notices(conn)[0][2] == "the period ended"
    run_forecast_pass(conn, now=MARCH_23)  # a late pass for March opens a new one
    end_episode(conn, patient_id=who, episode_id=episode, ended_on=date(2026, 3, 23), actor=cora,
                now=MARCH_23)  # fmt: skip
    # Off the worklist at once; cleared by the next pass.
    (row,) = build_worklist(conn, user_id=cora, all_patients=False, now=MARCH_23, limit=5).rows
    assert row.facts.notices == ()
    assert run_forecast_pass(conn, now=MARCH_23).cleared == 1
    assert _notices(conn)[-1][2] == "the programme episode ended"


def test_a_month_without_billable_time_near_its_end_is_a_notice_until_it_bills(
    conn: psycopg.Connection[Any],
) -> None:
    cora = coordinator_with_push(conn, "cora", at(1))
    who = patient(conn, timezone=NEW_YORK, coordinator=cora)
    episode = program_episode(conn, who, cora, kind=ProgramKind.CCM, started_on=START, now=at(1))
    review = Work(Activity.DATA_REVIEW, interactive=False)
    log_time(conn, patient_id=who, episode_id=episode.id, coordinator_id=cora,
             span=span_of(now=at(20), minutes=24), work=review, now=at(20))  # fmt: skip
    # 25 March: 7 days left (25-31), 24 minutes but no interactive communication.
    assert run_forecast_pass(conn, now=at(24)).opened == 0  # 8 days left: not judged yet
    assert run_forecast_pass(conn, now=at(25)).opened == 1
    text = (
        "CCM time: 24 min, no interactive contact yet (nothing billable without one);"
        " 16 more for 99439; 7 days left"
    )
    assert _notices(conn) == [(NoticeKind.CCM_TIME.value, text, None)]
    call = Work(Activity.CALL, interactive=True)
    log_time(conn, patient_id=who, episode_id=episode.id, coordinator_id=cora,
             span=span_of(now=at(26), minutes=2), work=call, now=at(26))  # fmt: skip
    assert run_forecast_pass(conn, now=at(26)).cleared == 1
    assert _notices(conn)[0][2] == "no longer at risk: 26 min: 99490; 14 more for 99439"
    month = care_progress(conn, patient_id=who, now=at(26)).programs[0].month
    assert month is not None
    assert (month.minutes, month.next_at, month.interactive, month.codes) == (
        26,
        40,
        True,
        ("99490",),
    )
    assert outbox(conn) == []


def test_the_scheduler_runs_the_tcm_checks_each_interval_and_the_forecast_once_a_day(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    _measuring(conn)
    cora = conn.execute("SELECT id FROM users").fetchone()
    assert cora is not None
    who = patient(conn, timezone=NEW_YORK, coordinator=cora[0])
    tcm_episode(conn, who, cora[0], discharged_on=date(2026, 3, 19), now=at(19))  # a Thursday
    # Tuesday 24 March: the contact (due Monday 23) is missed; the period (10 days,
    # 7 left, 6 needed) at risk.
    clock = [at(24)]
    scheduler = AdherenceScheduler(settings, interval_s=0.05, clock=lambda: clock[0])
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: len(_notices(conn)) == 1)
        assert wait_until(lambda: len(conn.execute(TCM_ALERTS).fetchall()) == 1)
        # Later the same UTC day the forecast does not run again (what it wrote stays).
        conn.execute("UPDATE worklist_notices SET text = 'as the first pass left it'")
        clock[0] = at(24, 22)
        time.sleep(0.3)
        assert _notices(conn)[0][1] == "as the first pass left it"
    finally:
        stop.set()
        thread.join(timeout=10)
    kinds = conn.execute(TCM_ALERTS).fetchall()
    assert kinds == [("tcm_contact_missed",)]  # the visit is due on Thursday 26
