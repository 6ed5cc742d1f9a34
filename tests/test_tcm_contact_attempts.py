"""Unsuccessful attempts at the TCM interactive contact, over the real database: two made in
time stand in for the contact (CMS's TCM FAQ, March 2016), on the worklist, in the alerts,
on the patient page and in the billing export; one, or a second one too late, do not.

Hand-worked dates, as in tests/test_tcm_clocks.py. Discharged Friday 16 January 2026 in
Chicago (UTC-6); Monday 19 January is Martin Luther King Jr. Day, so the business days
after the discharge are Tuesday 20 (day 1) and Wednesday 21 (day 2): the contact is due by
the end of Wednesday 21 January in Chicago, 06:00 UTC on the 22nd. Attempts count from the
start of the day of discharge (06:00 UTC on the 16th) to then, weekend and holiday
included: "within the 2 business days" is the deadline, not the days an attempt is made
on. The rules file asks for 2 (``tcm.unsuccessful_attempts``, source ``tcm-faq-2016``).
The 30-day service period ends on Saturday 14 February: the export bills it in February.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from billing.models import Month
from billing.rules import rules_for
from flows.care_progress import care_progress
from flows.tcm_alerts import run_tcm_checks, settle_tcm_alerts
from flows.tcm_clocks import CONTACT, tcm_deadlines
from flows.worklist import build_worklist
from hub.care_programs import Complexity
from programs.episodes import record
from programs.models import ContactMethod, Statement
from tests.billing_export.support import month_rows, of
from tests.care_support import coordinator_with_push, patient, tcm_episode

pytestmark = pytest.mark.services

CHICAGO = "America/Chicago"
ENROLLED = datetime(2026, 1, 16, 20, tzinfo=UTC)
CONTACT_RUNS_OUT = datetime(2026, 1, 22, 6, tzinfo=UTC)
AFTER = CONTACT_RUNS_OUT + timedelta(hours=1)  # Thursday 01:00 in Chicago


def chicago(day: int, hour: int, minute: int = 0) -> datetime:
    """January 2026 in Chicago (UTC-6), as an instant in UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC) + timedelta(hours=6)


def _discharged(conn: psycopg.Connection[Any]) -> tuple[UUID, UUID, int]:
    cora = coordinator_with_push(conn, "cora", ENROLLED)
    who = patient(conn, timezone=CHICAGO, coordinator=cora)
    episode = tcm_episode(
        conn, who, cora, discharged_on=ENROLLED.date(), now=ENROLLED, complexity=Complexity.HIGH
    )
    return cora, who, episode.id


def _attempt(
    conn: psycopg.Connection[Any], who: UUID, episode: int, cora: UUID, at: datetime
) -> None:
    """Cora's unanswered call at ``at``, recorded five minutes later."""
    tried = Statement.attempt(at, ContactMethod.TELEPHONE, cora, note="no answer")
    record(
        conn, patient_id=who, episode_id=episode, statements=[tried], actor=cora,
        now=at + timedelta(minutes=5),
    )  # fmt: skip


def test_the_rules_ask_for_two_attempts_and_say_where_that_comes_from() -> None:
    tcm = rules_for(ENROLLED.date()).tcm
    assert (tcm.unsuccessful_attempts, tcm.unsuccessful_attempts_source) == (2, "tcm-faq-2016")


@pytest.mark.parametrize(
    ("attempts", "met"),
    [
        ([chicago(20, 10), chicago(21, 15)], True),  # business days 1 and 2
        ([chicago(20, 10)], False),  # one attempt
        ([chicago(20, 10), chicago(22, 0, 30)], False),  # the second half an hour late
        ([chicago(17, 15), chicago(19, 15)], True),  # Saturday, and the Monday holiday
        ([chicago(20, 10), chicago(21, 23, 50)], True),  # Thursday already in UTC
    ],
    ids=["days-1-and-2", "one", "second-late", "weekend-and-holiday", "last-minutes-local"],
)
def test_two_timely_unsuccessful_attempts_stand_in_for_the_contact(
    conn: psycopg.Connection[Any], attempts: list[datetime], met: bool
) -> None:
    cora, who, episode = _discharged(conn)
    for at in attempts:
        _attempt(conn, who, episode, cora, at)
    contact = tcm_deadlines(conn, patient_ids=[who], now=AFTER)[who][0]
    assert contact.name == CONTACT
    today = date(2026, 1, 22)  # Thursday in Chicago
    row = next(
        r
        for r in build_worklist(conn, user_id=cora, all_patients=False, now=AFTER, limit=5).rows
        if r.facts.patient_id == who
    )
    (clocks,) = care_progress(conn, patient_id=who, now=AFTER).tcm
    opened = run_tcm_checks(conn, now=AFTER)
    # February's export: the service period (16 January to 14 February) ends in it.
    (billed,) = of(month_rows(conn, Month(2026, 2)), who)
    sent = billed["evidence"]["contact"]
    assert [a["in_time"] for a in sent["attempts"]] == [
        at < CONTACT_RUNS_OUT for at in sorted(attempts)
    ]
    assert {a["by"] for a in sent["attempts"]} == {"cora"}
    if met:
        assert contact.satisfied == "attempted twice"
        assert not contact.pressing(today)
        assert contact.sentence(AFTER, today) == (
            "TCM interactive contact attempted twice by Wed 21 Jan"
            " (2 business days; discharged Fri 16 Jan 2026)"
        )
        assert row.scored.band == 0  # not ranked as an overdue deadline
        assert (clocks.clocks[0].status, clocks.clocks[0].attempts) == ("attempted", 2)
        assert opened == 0  # no tcm_contact_missed
        assert sent["met_by"] == "attempts"
        assert "no_interactive_contact" not in billed["flags"]
    else:
        assert contact.satisfied == ""
        assert contact.pressing(today)
        assert contact.sentence(AFTER, today).startswith("TCM interactive contact overdue 1 h")
        assert contact.note.endswith("; attempted once")
        assert row.scored.band == 2
        assert clocks.clocks[0].status == "overdue"
        assert opened == 1
        kinds = conn.execute("SELECT kind FROM alerts").fetchall()
        assert kinds == [("tcm_contact_missed",)]
        assert sent["met_by"] is None
        assert "no_interactive_contact" in billed["flags"]


def test_attempts_recorded_after_the_alert_but_made_in_time_resolve_it(
    conn: psycopg.Connection[Any],
) -> None:
    """The calls were made on Tuesday and Wednesday but written down on Thursday, after the
    missed-contact alert opened: recording them resolves it, and says why."""
    cora, who, episode = _discharged(conn)
    assert run_tcm_checks(conn, now=AFTER) == 1
    for at in (chicago(20, 10), chicago(21, 15)):
        tried = Statement.attempt(at, ContactMethod.ELECTRONIC, cora)
        record(conn, patient_id=who, episode_id=episode, statements=[tried], actor=cora, now=AFTER)
    assert settle_tcm_alerts(conn, patient_id=who, now=AFTER) == 1
    note = conn.execute(
        "SELECT note FROM alert_events WHERE event = 'resolved_automatically'"
    ).fetchone()
    assert note == (
        "the interactive contact was attempted twice in time"
        " (2026-01-20 16:00 UTC, 2026-01-21 21:00 UTC)",
    )
    assert run_tcm_checks(conn, now=AFTER + timedelta(hours=1)) == 0
