"""Corrections of what is recorded of an episode, in the real database: append-only, like
the time log; the latest holds, the old stays in the history with who, when and why."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from hub.care_programs import DischargeSetting, ProgramKind
from programs import corrections, episodes, timelog
from programs.exceptions import (
    AlreadySupersededError,
    ConsentRequiredError,
    InvalidDatesError,
    InvalidProgramError,
)
from programs.models import (
    Activity,
    ConsentMethod,
    ContactMethod,
    Fact,
    Statement,
    Tcm,
    Work,
    milestones,
)
from programs.records import insert_record
from programs.timelog import span_of
from tests.api_support import make_user
from tests.programs.support import DR, NOW, START, rpm

pytestmark = pytest.mark.services

LATER = NOW + timedelta(hours=2)


def _consented(conn: psycopg.Connection[Any], patient: UUID, cora: UUID) -> int:
    episode = rpm(conn, patient, cora)
    consent = Statement.consent(date(2026, 3, 5), ConsentMethod.VERBAL)
    episodes.record(
        conn, patient_id=patient, episode_id=episode.id, statements=[consent], actor=cora, now=NOW
    )
    return episode.id


def test_a_correction_is_a_new_record_the_old_one_stays_with_who_when_and_why(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    episode = _consented(conn, patient, coordinator)
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": episode}
    first = episodes.get_episode(conn, **ids).recorded[Fact.CONSENT]
    sue = make_user(conn, "sue")
    fixed = corrections.correct(
        conn, **ids, record_id=first.id, reason="  the form was signed  ", actor=sue, now=LATER,
        changes={"method": "written", "on": date(2026, 3, 4)},
    )  # fmt: skip
    assert (fixed.supersedes, fixed.reason, fixed.recorded_by_name, fixed.recorded_at) == (
        first.id, "the form was signed", "sue", LATER,
    )  # fmt: skip
    now_is = episodes.get_episode(conn, **ids)
    assert now_is.consent is not None
    assert (now_is.consent.on, now_is.consent.method) == (date(2026, 3, 4), ConsentMethod.WRITTEN)
    assert (now_is.consent.recorded_by, now_is.recorded[Fact.CONSENT].id) == (sue, fixed.id)
    kept = corrections.history(conn, **ids)
    assert [(r.id, r.statement.method, r.superseded_by, r.current) for r in kept] == [
        (first.id, ConsentMethod.VERBAL, fixed.id, False),
        (fixed.id, ConsentMethod.WRITTEN, None, True),
    ]
    # Only the latest is corrected; and a correction says why, and changes a value.
    with pytest.raises(AlreadySupersededError, match=f"corrected by {fixed.id}"):
        corrections.correct(
            conn, **ids, record_id=first.id, reason="again", actor=sue, now=LATER,
            changes={"method": "electronic"},
        )  # fmt: skip
    for reason, changes in ((" ", {"method": "verbal"}), ("why", {}), ("why", {"by": "RN"})):
        with pytest.raises(InvalidProgramError):
            corrections.correct(
                conn, **ids, record_id=fixed.id, reason=reason, actor=sue, now=LATER,
                changes=changes,
            )  # fmt: skip
    with pytest.raises(InvalidProgramError, match="not a method of the consent"):
        corrections.correct(
            conn, **ids, record_id=fixed.id, reason="why", actor=sue, now=LATER,
            changes={"method": "telephone"},
        )  # fmt: skip


def test_consent_is_not_moved_after_nor_withdrawn_before_the_time_logged(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    """Consent on 5 March; 12 minutes logged on 8 March (Chicago). Moving the consent to
    9 March, or withdrawing it, would leave time before its consent: refused. To 7 March
    (or earlier) is fine."""
    episode = _consented(conn, patient, coordinator)
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": episode}
    at = datetime(2026, 3, 8, 15, tzinfo=UTC)
    timelog.log_time(
        conn, patient_id=patient, episode_id=episode, coordinator_id=coordinator,
        span=span_of(now=NOW, minutes=12, at=at), work=Work(Activity.CALL, True), now=NOW,
    )  # fmt: skip
    consent = episodes.get_episode(conn, **ids).recorded[Fact.CONSENT].id
    fix: dict[str, Any] = {"reason": "dated wrong", "actor": coordinator, "now": LATER}
    with pytest.raises(ConsentRequiredError, match="2026-03-08"):
        corrections.correct(conn, **ids, record_id=consent, changes={"on": date(2026, 3, 9)}, **fix)
    with pytest.raises(ConsentRequiredError):
        corrections.correct(conn, **ids, record_id=consent, withdraw=True, **fix)
    moved = corrections.correct(
        conn, **ids, record_id=consent, changes={"on": date(2026, 3, 7)}, **fix
    )
    assert moved.statement.on == date(2026, 3, 7)


def test_a_withdrawal_leaves_the_fact_unrecorded_and_it_may_be_recorded_anew(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    episode = rpm(conn, patient, coordinator)
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": episode.id}
    done = Statement.setup(date(2026, 3, 2), "RN Lee")
    set_up = episodes.record(conn, **ids, statements=[done], actor=coordinator, now=NOW)
    setup = set_up.recorded[Fact.SETUP]
    gone = corrections.correct(
        conn, **ids, record_id=setup.id, reason="wrong patient", actor=coordinator, now=LATER,
        withdraw=True,
    )  # fmt: skip
    assert (gone.withdrawn, gone.statement, gone.current) == (True, Statement(Fact.SETUP), False)
    assert episodes.get_episode(conn, **ids).setup is None
    with pytest.raises(InvalidProgramError, match="record it anew"):
        corrections.correct(
            conn, **ids, record_id=gone.id, reason="undo", actor=coordinator, now=LATER,
            changes={"by": "RN Kim"},
        )  # fmt: skip
    again = episodes.record(conn, **ids, statements=[done], actor=coordinator, now=LATER)
    assert again.setup is not None
    assert [r.current for r in corrections.history(conn, **ids)] == [False, False, True]


def test_milestones_and_attempts_are_corrected_by_the_rules_they_were_recorded_by(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    discharged = date(2026, 3, 2)
    tcm = episodes.start_episode(
        conn, patient_id=patient, kind=ProgramKind.TCM, started_on=None, ordering=DR,
        conditions=[], actor=coordinator, now=NOW,
        tcm=Tcm(discharged, DischargeSetting.INPATIENT, face_to_face_on=date(2026, 3, 6)),
    )  # fmt: skip
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": tcm.id}
    fix: dict[str, Any] = {"reason": "the visit was on the 5th", "actor": coordinator, "now": LATER}
    visit = tcm.recorded[Fact.FACE_TO_FACE].id
    with pytest.raises(InvalidDatesError, match="before the discharge"):
        corrections.correct(conn, **ids, record_id=visit, changes={"on": date(2026, 3, 1)}, **fix)
    with pytest.raises(InvalidProgramError, match="changes on"):  # a visit has a day only
        corrections.correct(conn, **ids, record_id=visit, changes={"method": "telephone"}, **fix)
    corrections.correct(conn, **ids, record_id=visit, changes={"on": date(2026, 3, 5)}, **fix)
    tried = Statement.attempt(
        datetime(2026, 3, 3, 15, tzinfo=UTC), ContactMethod.TELEPHONE, coordinator
    )
    after = episodes.record(conn, **ids, statements=[tried], actor=coordinator, now=NOW)
    attempt = after.contact_attempts[0]
    sue = make_user(conn, "sue")
    moved = corrections.correct(
        conn, **ids, record_id=attempt.id, reason="it was a text", actor=sue, now=LATER,
        changes={"method": "electronic", "note": "sent via the portal"},
    )  # fmt: skip
    # The attempt stays the coordinator's who made it; the correction is sue's.
    assert (moved.statement.attempted_by, moved.recorded_by) == (coordinator, sue)
    now_is = episodes.get_episode(conn, **ids)
    assert now_is.tcm is not None
    assert now_is.tcm.face_to_face_on == date(2026, 3, 5)
    assert [(a.statement.method, a.statement.note) for a in now_is.contact_attempts] == [
        (ContactMethod.ELECTRONIC, "sent via the portal")
    ]
    corrections.correct(conn, **ids, record_id=moved.id, withdraw=True, **fix)
    assert episodes.get_episode(conn, **ids).contact_attempts == ()
    assert milestones(face_to_face_on=date(2026, 3, 5)) == (
        Statement(Fact.FACE_TO_FACE, on=date(2026, 3, 5)),
    )


def test_two_corrections_of_one_record_cannot_both_land(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    """The database keeps a record superseded at most once (another request's correction
    between the read and the write loses)."""
    episode = episodes.get_episode(
        conn, patient_id=patient, episode_id=_consented(conn, patient, coordinator)
    )
    written = Statement.consent(START, ConsentMethod.WRITTEN)
    supersede = episode.recorded[Fact.CONSENT].id
    write: dict[str, Any] = {
        "actor": coordinator,
        "now": LATER,
        "supersedes": supersede,
        "reason": "written",
    }
    insert_record(conn, episode=episode, statement=written, **write)
    with pytest.raises(AlreadySupersededError, match=f"record {supersede} was corrected"):
        insert_record(conn, episode=episode, statement=written, **write)
