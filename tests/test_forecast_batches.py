"""The daily forecast read in bulk: the days it counts, and a pass in batches of patients
that decides what one pass over everyone would.

Hand-worked, as in tests/test_forecast_pass.py: RPM episodes from Sunday 1 March 2026,
patients in New York, 30-day period 1-30 March, 99454 at 16 days. Ten days with data
(1-10 March) on Monday 23 March, nothing yet that day: 8 days left, 6 needed (75 %):
at risk.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest

from flows.care_progress import care_progress
from flows.forecasts import PassResult, run_forecast_pass
from hub.care_programs import ProgramKind
from hub.db import connect
from hub.settings import Settings
from programs.episodes import end_episode
from tests.care_support import coordinator_with_push, device, patient, program_episode, reading
from tests.test_forecast_pass import MARCH_23, NEW_YORK, START, at

pytestmark = pytest.mark.services


def _measuring(conn: psycopg.Connection[Any], cora: UUID, days: range) -> tuple[UUID, str, int]:
    """A patient in New York, a scale with sensed weights on ``days`` of March, the
    episode."""
    who = patient(conn, timezone=NEW_YORK, coordinator=cora)
    episode = program_episode(
        conn, who, cora, kind=ProgramKind.RPM, started_on=START, now=at(1), consent=False
    )
    scale = device(conn, who)
    for day in days:
        reading(conn, scale, at(day))
    return who, scale, episode.id


def _open_notices(conn: psycopg.Connection[Any]) -> dict[UUID, str]:
    rows = conn.execute("SELECT patient_id, text FROM worklist_notices WHERE cleared_at IS NULL")
    return {p: str(t) for p, t in rows}


def test_a_pass_in_batches_opens_keeps_and_clears_what_one_pass_would(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    cora = coordinator_with_push(conn, "cora", at(1))
    first, scale, _ = _measuring(conn, cora, range(1, 11))
    second, _, _ = _measuring(conn, cora, range(1, 11))
    third, _, ended = _measuring(conn, cora, range(1, 11))
    full, _, _ = _measuring(conn, cora, range(1, 21))  # 20 days: 99454 reached
    result = run_forecast_pass(conn, now=MARCH_23, batch=1)
    assert (result, result.judged) == (PassResult(opened=3, updated=0, cleared=0), 4)
    at_risk = "Device days: needs 6 more days in 8 for 99454 (99445 reached)"
    assert _open_notices(conn) == {first: at_risk, second: at_risk, third: at_risk}

    # Tuesday 24 March, 16:00 in New York: the first has measured on 23 and 24 March
    # (12 days, 6 left, 4 needed: 67 %); the second not (10 days, 7 left, 6 needed);
    # the third's episode has ended. Two patients to a batch, the days read on a second
    # connection (as the scheduler runs it).
    for day in (23, 24):
        reading(conn, scale, at(day))
    end_episode(conn, patient_id=third, episode_id=ended, ended_on=date(2026, 3, 23),
                actor=cora, now=at(23))  # fmt: skip
    result = run_forecast_pass(conn, now=at(24, 20), batch=2, reader=lambda: connect(settings))
    assert (result, result.judged) == (PassResult(opened=0, updated=2, cleared=1), 3)
    assert _open_notices(conn) == {
        first: "Device days: needs 4 more days in 6 for 99454 (99445 reached)",
        second: "Device days: needs 6 more days in 7 for 99454 (99445 reached)",
    }
    reason = conn.execute(
        "SELECT cleared_reason FROM worklist_notices WHERE patient_id = %s", (third,)
    ).fetchone()
    assert reason == ("the programme episode ended",)
    assert full not in _open_notices(conn)


def test_the_days_counted_are_the_patients_own_sensed_days_up_to_today(
    conn: psycopg.Connection[Any],
) -> None:
    cora = coordinator_with_push(conn, "cora", at(1))
    who, scale, _ = _measuring(conn, cora, range(1, 11))
    # Later on Monday 23 March than the pass (16:00 in New York): today has data.
    reading(conn, scale, at(23, 20))
    # Tuesday and Wednesday: after today, not counted.
    for day in (24, 25):
        reading(conn, scale, at(day))
    # A second scale's weights on 11-12 March, before it went to another patient: the
    # days count for neither (a device counts for the patient it is registered to).
    lent = device(conn, who)
    for day in (11, 12):
        reading(conn, lent, at(day))
    other = patient(conn, timezone=NEW_YORK)
    conn.execute("UPDATE devices SET patient_id = %s WHERE serial = %s", (other, lent))

    assert run_forecast_pass(conn, now=MARCH_23).opened == 1
    # 11 days with today; 24-30 left (7), 5 needed: 71 %.
    text = "Device days: needs 5 more days in 7 for 99454 (99445 reached)"
    assert _open_notices(conn) == {who: text}
    progress = care_progress(conn, patient_id=who, now=MARCH_23).programs[0]
    assert progress.period is not None
    assert (progress.period.days, progress.period.days_left) == (11, 7)
