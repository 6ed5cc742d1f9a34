"""Episodes of care programmes in the real database: start, consent, set-up, TCM, end."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from programs import episodes
from programs.codes import luhn_valid, npi_valid
from programs.exceptions import (
    AlreadyRecordedError,
    InvalidConditionError,
    InvalidDatesError,
    InvalidNpiError,
    InvalidProgramError,
    ProgramClosedError,
    ProgramOpenError,
    ProgramsError,
    TooFewConditionsError,
)
from programs.models import (
    ConsentMethod,
    Episode,
    Fact,
    Practitioner,
    Statement,
    Tcm,
    milestones,
)
from tests.programs.support import DR, NOW, START, rpm

pytestmark = pytest.mark.services


def test_an_rpm_episode_is_started_read_back_and_ended(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    started = rpm(conn, patient, coordinator)
    assert (started.kind, started.started_on, started.is_open) == (ProgramKind.RPM, START, True)
    assert started.ordering == DR
    assert started.timezone == "America/Chicago"
    assert episodes.list_episodes(conn, patient_id=patient) == [started]
    ended = episodes.end_episode(
        conn, patient_id=patient, episode_id=started.id, ended_on=date(2026, 3, 10),
        actor=coordinator, now=NOW,
    )  # fmt: skip
    assert (ended.ended_on, ended.ended_by, ended.is_open) == (
        date(2026, 3, 10),
        coordinator,
        False,
    )
    with pytest.raises(ProgramClosedError):
        episodes.end_episode(
            conn, patient_id=patient, episode_id=started.id, ended_on=date(2026, 3, 10),
            actor=coordinator, now=NOW,
        )  # fmt: skip


def test_one_open_episode_per_kind_and_the_next_starts_after_the_last(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    first = rpm(conn, patient, coordinator)
    with pytest.raises(ProgramOpenError) as refused:
        rpm(conn, patient, coordinator)
    assert refused.value.code == "program_open"
    for too_late in (date(2026, 3, 11), date(2026, 2, 28)):  # tomorrow (Chicago), before it began
        with pytest.raises(InvalidDatesError):
            episodes.end_episode(
                conn, patient_id=patient, episode_id=first.id, ended_on=too_late,
                actor=coordinator, now=NOW,
            )  # fmt: skip
    episodes.end_episode(
        conn, patient_id=patient, episode_id=first.id, ended_on=date(2026, 3, 8),
        actor=coordinator, now=NOW,
    )  # fmt: skip

    def again(started_on: date) -> Episode:
        return episodes.start_episode(
            conn, patient_id=patient, kind=ProgramKind.RPM, started_on=started_on, ordering=DR,
            conditions=[], actor=coordinator, now=NOW,
        )  # fmt: skip

    with pytest.raises(InvalidDatesError):
        again(date(2026, 3, 8))
    later = again(date(2026, 3, 9))
    assert later.is_open
    # RPM and CCM run side by side.
    ccm = episodes.start_episode(
        conn, patient_id=patient, kind=ProgramKind.CCM, started_on=START, ordering=DR,
        conditions=["I50.22", "e11.9"], actor=coordinator, now=NOW,
    )  # fmt: skip
    assert ccm.conditions == ("I50.22", "E11.9")


def test_ccm_with_one_condition_is_refused_with_a_code(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    for conditions in (["I50.22"], ["I50.22", "I5022"]):  # the same code twice is one
        with pytest.raises(TooFewConditionsError) as refused:
            episodes.start_episode(
                conn, patient_id=patient, kind=ProgramKind.CCM, started_on=START, ordering=DR,
                conditions=conditions, actor=coordinator, now=NOW,
            )  # fmt: skip
        assert refused.value.code == "ccm_needs_two_conditions"
    assert episodes.list_episodes(conn, patient_id=patient) == []
    # The table refuses it too, whoever writes it.
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO program_episodes (patient_id, kind, started_on, ordering_name,"
            " ordering_npi, conditions, created_by, created_at)"
            " VALUES (%s, 'CCM', %s, 'x', %s, '{I50.22}', %s, now())",
            (patient, START, DR.npi, coordinator),
        )


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "A234567893", ""])
def test_a_bad_npi_is_refused(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID, npi: str
) -> None:
    with pytest.raises(InvalidNpiError) as refused:
        episodes.start_episode(
            conn, patient_id=patient, kind=ProgramKind.RPM, started_on=START,
            ordering=Practitioner("Dr. X", npi), conditions=[], actor=coordinator, now=NOW,
        )  # fmt: skip
    assert refused.value.code == "invalid_npi"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_makes_an_npi(body: str) -> None:
    valid = [d for d in "0123456789" if npi_valid(body + d)]
    assert len(valid) == 1
    assert luhn_valid("80840" + body + valid[0])


@pytest.mark.parametrize("code", ["heart failure", "150.22", "I50.", "I50.22222", "I5"])
def test_a_condition_that_is_not_an_icd10cm_code_is_refused(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID, code: str
) -> None:
    with pytest.raises(InvalidConditionError) as refused:
        episodes.start_episode(
            conn, patient_id=patient, kind=ProgramKind.CCM, started_on=START, ordering=DR,
            conditions=["E11.9", code], actor=coordinator, now=NOW,
        )  # fmt: skip
    assert refused.value.code == "invalid_condition_code"


def test_consent_and_rpm_setup_are_recorded_once(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    episode = rpm(conn, patient, coordinator)
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": episode.id}
    consented = episodes.record(
        conn, **ids, statements=[Statement.consent(START, ConsentMethod.VERBAL)],
        actor=coordinator, now=NOW,
    )  # fmt: skip
    assert consented.consent is not None
    assert (consented.consent.on, consented.consent.method) == (START, ConsentMethod.VERBAL)
    assert (consented.consent.recorded_by, consented.consent.recorded_at) == (coordinator, NOW)
    with pytest.raises(AlreadyRecordedError):
        episodes.record(
            conn, **ids, statements=[Statement.consent(START, ConsentMethod.WRITTEN)],
            actor=coordinator, now=NOW,
        )  # fmt: skip
    set_up = episodes.record(
        conn, **ids, statements=[Statement.setup(date(2026, 3, 2), " RN Bo Sample ")],
        actor=coordinator, now=NOW,
    )  # fmt: skip
    assert set_up.setup is not None
    assert (set_up.setup.on, set_up.setup.by) == (date(2026, 3, 2), "RN Bo Sample")
    with pytest.raises(AlreadyRecordedError) as again:  # 99453: once per episode
        episodes.record(
            conn, **ids, statements=[Statement.setup(date(2026, 3, 3), "RN Bo Sample")],
            actor=coordinator, now=NOW,
        )  # fmt: skip
    assert again.value.code == "already_recorded"
    with pytest.raises(InvalidDatesError):  # 2026-03-11 is tomorrow in Chicago
        episodes.record(
            conn, patient_id=patient, episode_id=episodes.start_episode(
                conn, patient_id=patient, kind=ProgramKind.CCM, started_on=START, ordering=DR,
                conditions=["I50.22", "E11.9"], actor=coordinator, now=NOW,
            ).id, statements=[Statement.consent(date(2026, 3, 11), ConsentMethod.WRITTEN)],
            actor=coordinator, now=NOW,
        )  # fmt: skip


def test_a_tcm_episode_follows_a_discharge_and_records_its_milestones_once(
    conn: psycopg.Connection[Any], patient: UUID, coordinator: UUID
) -> None:
    discharged = date(2026, 3, 2)
    tcm = episodes.start_episode(
        conn, patient_id=patient, kind=ProgramKind.TCM, started_on=None, ordering=DR,
        conditions=["I50.23"], actor=coordinator, now=NOW,
        tcm=Tcm(discharged_on=discharged, setting=DischargeSetting.INPATIENT),
    )  # fmt: skip
    assert tcm.started_on == discharged  # the 30 days begin on the day of discharge
    assert tcm.tcm == Tcm(discharged_on=discharged, setting=DischargeSetting.INPATIENT)
    contact = datetime(2026, 3, 3, 16, 30, tzinfo=NOW.tzinfo)
    ids: dict[str, Any] = {"patient_id": patient, "episode_id": tcm.id}
    mark = {**ids, "actor": coordinator, "now": NOW}
    called = NOW - timedelta(days=6)  # recorded the day after the discharge
    after = episodes.record(
        conn, **ids, actor=coordinator, now=called, statements=milestones(first_contact_at=contact)
    )
    after = episodes.record(
        conn, **mark, statements=milestones(
            complexity=Complexity.HIGH, face_to_face_on=date(2026, 3, 6),
            med_reconciled_on=date(2026, 3, 6),
        ),
    )  # fmt: skip
    assert after.tcm == Tcm(
        discharged_on=discharged, setting=DischargeSetting.INPATIENT,
        complexity=Complexity.HIGH, med_reconciled_on=date(2026, 3, 6),
        face_to_face_on=date(2026, 3, 6), first_contact_at=contact,
    )  # fmt: skip
    # Each milestone keeps who recorded it and when.
    recorded = {
        fact: (r.recorded_by, r.recorded_by_name, r.recorded_at)
        for fact, r in after.recorded.items()
    }
    assert recorded == {
        Fact.CONTACT: (coordinator, "cora", called),
        **dict.fromkeys(
            (Fact.COMPLEXITY, Fact.FACE_TO_FACE, Fact.MED_RECONCILIATION),
            (coordinator, "cora", NOW),
        ),
    }
    with pytest.raises(AlreadyRecordedError, match="the face-to-face visit"):
        episodes.record(conn, **mark, statements=milestones(face_to_face_on=date(2026, 3, 7)))
    # A milestone is TCM's, a set-up RPM's: the same rules for every fact.
    with pytest.raises(InvalidProgramError, match="recorded on RPM episodes"):
        episodes.record(conn, **mark, statements=[Statement.setup(date(2026, 3, 6), "RN")])
    for discharged_on, face_to_face_on in (
        (date(2026, 3, 8), date(2026, 3, 7)),  # a visit before the discharge
        (date(2026, 3, 11), None),  # a discharge tomorrow (Chicago)
    ):
        with pytest.raises(InvalidDatesError):
            episodes.start_episode(
                conn, patient_id=patient, kind=ProgramKind.TCM, started_on=None, ordering=DR,
                conditions=[], actor=coordinator, now=NOW,
                tcm=Tcm(discharged_on=discharged_on, setting=DischargeSetting.OBSERVATION,
                        face_to_face_on=face_to_face_on),
            )  # fmt: skip


def test_every_refusal_is_a_programs_error_with_a_code() -> None:
    import programs.exceptions as module

    classes = [c for c in vars(module).values() if isinstance(c, type)]
    errors = [c for c in classes if issubclass(c, ProgramsError)]
    assert len(errors) == len(classes) > 10
    assert len({c.code for c in errors}) == len(errors)
