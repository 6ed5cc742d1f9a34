"""The time log in the real database: consent first, append-only, corrections, timers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from alerts.service import record_detection
from hub.db import APP_ROLE, app_conninfo, ensure_app_role
from hub.patients import enroll_patient
from hub.settings import Settings
from programs import episodes, timelog, timers
from programs.exceptions import (
    AlreadySupersededError,
    ConsentRequiredError,
    InvalidTimeEntryError,
    ProgramRequiredError,
    TimerError,
)
from programs.models import (
    Activity,
    ConsentMethod,
    EntrySource,
    Episode,
    Statement,
    TimeEntry,
    Work,
)
from programs.timelog import span_of
from tests.api_support import detection, make_user
from tests.programs.support import NOW, rpm

pytestmark = pytest.mark.services

CALL = Work(Activity.CALL, interactive=True, note="talked through the weight trend")
REVIEW = Work(Activity.DATA_REVIEW, interactive=False)


def _consented(conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID) -> Episode:
    episode = rpm(conn, patient, coordinator)
    return episodes.record(
        conn, patient_id=patient, episode_id=episode.id,
        statements=[Statement.consent(date(2026, 3, 5), ConsentMethod.WRITTEN)],
        actor=coordinator, now=NOW,
    )  # fmt: skip


def _log(conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID, **span: Any) -> TimeEntry:
    return timelog.log_time(
        conn, patient_id=patient, episode_id=None, coordinator_id=coordinator,
        span=span_of(now=NOW, **span), work=CALL, now=NOW,
    )  # fmt: skip


def test_time_is_refused_until_consent_and_before_its_date(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    episode = rpm(conn, patient, coordinator)
    with pytest.raises(ConsentRequiredError) as refused:
        _log(conn, patient, coordinator, minutes=12)
    assert refused.value.code == "consent_required"
    episodes.record(
        conn, patient_id=patient, episode_id=episode.id,
        statements=[Statement.consent(date(2026, 3, 5), ConsentMethod.VERBAL)],
        actor=coordinator, now=NOW,
    )  # fmt: skip
    # 2026-03-05 03:00 UTC is still 4 March in Chicago: before the consent.
    with pytest.raises(ConsentRequiredError):
        _log(conn, patient, coordinator, minutes=5, at=NOW.replace(day=5, hour=3))
    entry = _log(conn, patient, coordinator, minutes=12)
    assert (entry.seconds, entry.started_at, entry.ended_at) == (
        720,
        NOW - timedelta(minutes=12),
        None,
    )
    assert (entry.episode_id, entry.kind, entry.source, entry.counts) == (
        episode.id, episode.kind, EntrySource.MANUAL, True,
    )  # fmt: skip
    assert entry.work == CALL
    assert (entry.coordinator_id, entry.recorded_by, entry.recorded_at) == (
        coordinator, coordinator, NOW,
    )  # fmt: skip


def test_an_entry_is_refused_outside_its_episode_in_the_future_or_too_long(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    _consented(conn, patient, coordinator)
    for span in (
        {"minutes": 10, "at": NOW.replace(month=2)},  # before the episode
        {"minutes": 10, "at": NOW + timedelta(minutes=30)},  # in the future
        {"minutes": 0},
        {"minutes": 24 * 60 + 1, "at": NOW - timedelta(days=2)},
    ):
        with pytest.raises(InvalidTimeEntryError):
            _log(conn, patient, coordinator, **span)
    with pytest.raises(InvalidTimeEntryError):
        span_of(now=NOW, minutes=3, started_at=NOW - timedelta(minutes=3), ended_at=NOW)
    assert timelog.list_entries(conn, patient_id=patient) == []


def test_an_entry_needs_one_episode_and_may_name_the_patients_alert_only(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    with pytest.raises(ProgramRequiredError):  # none open
        _log(conn, patient, coordinator, minutes=5)
    episode = _consented(conn, patient, coordinator)
    mine = record_detection(conn, detection=detection(patient), now=NOW).alert_id
    stranger = enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=()).id
    theirs = record_detection(conn, detection=detection(stranger), now=NOW).alert_id

    def log(alert_id: int) -> TimeEntry:
        return timelog.log_time(
            conn, patient_id=patient, episode_id=episode.id, coordinator_id=coordinator,
            span=span_of(now=NOW, minutes=4), work=REVIEW, now=NOW, alert_id=alert_id,
        )  # fmt: skip

    with pytest.raises(InvalidTimeEntryError, match="not this patient's"):
        log(theirs)
    entry = log(mine)
    assert entry.alert_id == mine


def test_the_apps_role_cannot_update_or_delete_time_entries(
    conn: psycopg.Connection[Any], settings: Settings, patient: UUID, coordinator: UUID
) -> None:
    _consented(conn, patient, coordinator)
    entry = _log(conn, patient, coordinator, minutes=12)
    ensure_app_role(conn, settings)
    changes = (
        "UPDATE time_entries SET seconds = 1200",
        "DELETE FROM time_entries",
        "TRUNCATE time_entries CASCADE",
    )
    with psycopg.connect(app_conninfo(settings)) as app:
        assert app.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        for statement in changes:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                app.execute(statement)
            app.rollback()
        # It may add entries (the API does).
        app.execute(
            "INSERT INTO time_entries (episode_id, patient_id, coordinator_id, started_at,"
            " seconds, activity, interactive, source, recorded_by, recorded_at)"
            " SELECT episode_id, patient_id, coordinator_id, started_at, 60, 'other', false,"
            " 'manual', recorded_by, recorded_at FROM time_entries WHERE id = %s",
            (entry.id,),
        )
    # Not even the owner, with the triggers on.
    for statement in changes:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
    assert conn.execute("SELECT count(*), sum(seconds) FROM time_entries").fetchone() == (2, 780)


def test_a_correction_supersedes_with_who_when_and_why(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    _consented(conn, patient, coordinator)
    entry = _log(conn, patient, coordinator, minutes=12)
    supervisor = make_user(conn, "sam")
    later = NOW + timedelta(hours=1)
    fixed = timelog.correct_entry(
        conn, patient_id=patient, entry_id=entry.id, reason="it was a 20-minute call",
        actor=supervisor, now=later, span=span_of(now=later, minutes=20, at=entry.started_at),
    )  # fmt: skip
    assert (fixed.supersedes, fixed.reason, fixed.recorded_by, fixed.recorded_at) == (
        entry.id, "it was a 20-minute call", supervisor, later,
    )  # fmt: skip
    assert (fixed.seconds, fixed.work, fixed.coordinator_id, fixed.source) == (
        1200, CALL, coordinator, EntrySource.CORRECTION,
    )  # fmt: skip
    listed = timelog.list_entries(conn, patient_id=patient)
    assert [(e.id, e.superseded_by, e.counts) for e in listed] == [
        (entry.id, fixed.id, False), (fixed.id, None, True),
    ]  # fmt: skip
    with pytest.raises(AlreadySupersededError):  # correct the latest, not the first again
        timelog.correct_entry(
            conn, patient_id=patient, entry_id=entry.id, reason="again", actor=coordinator,
            now=later,
        )  # fmt: skip
    withdrawn = timelog.correct_entry(
        conn, patient_id=patient, entry_id=fixed.id, reason="logged on the wrong patient",
        actor=coordinator, now=later, span=span_of(now=later, minutes=0, at=entry.started_at),
    )  # fmt: skip
    assert (withdrawn.seconds, withdrawn.counts) == (0, False)
    assert [e.counts for e in timelog.list_entries(conn, patient_id=patient)] == [False] * 3
    with pytest.raises(InvalidTimeEntryError):
        timelog.correct_entry(
            conn, patient_id=patient, entry_id=withdrawn.id, reason="  ", actor=coordinator,
            now=later,
        )  # fmt: skip


def test_a_timer_survives_a_second_tab_and_stops_once(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    episode = _consented(conn, patient, coordinator)
    key: dict[str, Any] = {"coordinator_id": coordinator, "patient_id": patient}
    first, new = timers.start_timer(conn, **key, now=NOW)
    second, again = timers.start_timer(conn, **key, now=NOW + timedelta(minutes=3))
    assert (new, again) == (True, False)
    assert first == second == timers.current_timer(conn, **key)
    assert (first.episode_id, first.started_at) == (episode.id, NOW)
    with pytest.raises(TimerError):  # another episode while this one runs
        timers.start_timer(conn, **key, now=NOW, episode_id=episode.id + 1)
    entry = timers.stop_timer(conn, **key, work=REVIEW, now=NOW + timedelta(minutes=7, seconds=5))
    assert (entry.seconds, entry.started_at, entry.source) == (425, NOW, EntrySource.TIMER)
    assert entry.ended_at == NOW + timedelta(minutes=7, seconds=5)
    assert timers.current_timer(conn, **key) is None
    with pytest.raises(TimerError):
        timers.stop_timer(conn, **key, work=REVIEW, now=NOW + timedelta(minutes=8))
    assert len(timelog.list_entries(conn, patient_id=patient)) == 1
    # Another coordinator's timer on the same patient is their own.
    other: dict[str, Any] = {"coordinator_id": make_user(conn, "otto"), "patient_id": patient}
    timers.start_timer(conn, **other, now=NOW)
    assert timers.current_timer(conn, **key) is None
    assert timers.discard_timer(conn, **other)
    assert len(timelog.list_entries(conn, patient_id=patient)) == 1


def test_a_timer_needs_consent_to_start(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    rpm(conn, patient, coordinator)
    with pytest.raises(ConsentRequiredError):
        timers.start_timer(conn, coordinator_id=coordinator, patient_id=patient, now=NOW)
    assert timers.current_timer(conn, coordinator_id=coordinator, patient_id=patient) is None


def test_a_timer_stopped_at_once_is_refused_and_keeps_running(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    _consented(conn, patient, coordinator)
    key: dict[str, Any] = {"coordinator_id": coordinator, "patient_id": patient}
    timer, _ = timers.start_timer(conn, **key, now=NOW)
    conn.autocommit = False  # as the API does: one transaction, rolled back on a refusal
    with pytest.raises(InvalidTimeEntryError, match="under a second"):
        timers.stop_timer(conn, **key, work=REVIEW, now=NOW + timedelta(milliseconds=300))
    conn.rollback()
    assert timers.current_timer(conn, **key) == timer
