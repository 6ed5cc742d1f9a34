"""Episodes of care programmes: start one, record its consent, set-up and milestones, end it.

Repository functions: keyword-only, take the connection, never commit.
Consent, the RPM set-up (99453: once per episode), each TCM milestone and
the unsuccessful contact attempts are statements of a fact
(:class:`~programs.models.Statement`), recorded by one function
(:func:`record`) under the rules of :mod:`programs.facts` as rows of the
episode's append-only record (:mod:`programs.records`), each once but the
attempts; a second recording is :class:`AlreadyRecordedError`, so what a
claim would rest on is not silently rewritten: it is corrected
(:mod:`programs.corrections`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from hub.care_programs import DischargeSetting, ProgramKind
from hub.db import Conn
from hub.exceptions import NotFoundError
from hub.sql import queries
from programs.codes import check_npi, normalize_conditions
from programs.exceptions import (
    AlreadyRecordedError,
    InvalidDatesError,
    InvalidProgramError,
    ProgramClosedError,
    ProgramOpenError,
    ProgramRequiredError,
    TooFewConditionsError,
)
from programs.facts import LABEL, check, recorded
from programs.models import Episode, Practitioner, Record, Statement, Tcm
from programs.records import episode_parts, insert_record, records_of

#: CCM's eligibility: two or more chronic conditions.
CCM_MIN_CONDITIONS = 2


def _episodes(conn: Conn, rows: Sequence[Mapping[str, Any]]) -> list[Episode]:
    """The episodes of the rows, with what their records hold."""
    records = records_of(conn, episode_ids=[row["id"] for row in rows])
    return [_episode(row, records.get(row["id"], ())) for row in rows]


def _episode(row: Mapping[str, Any], records: Sequence[Record]) -> Episode:
    discharge = (
        Tcm(row["discharged_on"], DischargeSetting(row["discharge_setting"]))
        if row["discharged_on"] is not None
        else None
    )
    parts = episode_parts(records, discharge)
    return Episode(
        id=row["id"],
        patient_id=row["patient_id"],
        kind=ProgramKind(row["kind"]),
        started_on=row["started_on"],
        ended_on=row["ended_on"],
        ordering=Practitioner(name=row["ordering_name"], npi=row["ordering_npi"]),
        conditions=tuple(row["conditions"]),
        consent=parts.consent,
        setup=parts.setup,
        tcm=parts.tcm,
        created_by=row["created_by"],
        created_at=row["created_at"],
        ended_by=row["ended_by"],
        timezone=row["timezone"],
        recorded=parts.recorded,
        contact_attempts=parts.attempts,
    )


def time_span(conn: Conn, *, episode_id: int) -> tuple[datetime | None, datetime | None]:
    """When the episode's first and last entries whose time counts begin (None: none)."""
    row = conn.execute(queries["program_episode_time_span"], {"id": episode_id}).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _timezone_of(conn: Conn, *, patient_id: UUID) -> str:
    row = conn.execute(queries["patient_timezone"], {"patient_id": patient_id}).fetchone()
    if row is None:
        raise NotFoundError(f"patient {patient_id}")
    return str(row[0])


def get_episode(
    conn: Conn, *, patient_id: UUID, episode_id: int, for_update: bool = False
) -> Episode:
    """The patient's episode; :class:`NotFoundError` if it is not the patient's."""
    query = queries["program_episode_for_update" if for_update else "program_episode"]
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, {"id": episode_id, "patient_id": patient_id}).fetchone()
    if row is None:
        raise NotFoundError(f"programme {episode_id}")
    return _episodes(conn, [row])[0]


def list_episodes(conn: Conn, *, patient_id: UUID) -> list[Episode]:
    """The patient's episodes, the newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["program_episodes_of_patient"], {"patient_id": patient_id})
        return _episodes(conn, rows.fetchall())


def open_episodes(
    conn: Conn, *, kinds: Collection[ProgramKind], patient_ids: Collection[UUID] | None = None
) -> list[Episode]:
    """The open episodes of ``kinds``: every patient's, or only ``patient_ids``'."""
    params = _open_params(kinds, patient_ids)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["open_program_episodes"], params)
        return _episodes(conn, rows.fetchall())


def with_open_episodes(
    conn: Conn, *, kinds: Collection[ProgramKind], patient_ids: Collection[UUID] | None = None
) -> list[UUID]:
    """The patients (of ``patient_ids``, or any) with an open episode of ``kinds``, by id."""
    params = _open_params(kinds, patient_ids)
    return [row[0] for row in conn.execute(queries["patients_with_open_episodes"], params)]


def _open_params(
    kinds: Collection[ProgramKind], patient_ids: Collection[UUID] | None
) -> dict[str, Any]:
    return {
        "kinds": [k.value for k in kinds],
        "all": patient_ids is None,
        "patient_ids": list(patient_ids or ()),
    }


def choose_episode(conn: Conn, *, patient_id: UUID, episode_id: int | None) -> Episode:
    """The named episode, or else the patient's only open one.

    :class:`ProgramRequiredError` if none is named and the patient has no
    open episode or more than one (RPM and CCM may run together).
    """
    if episode_id is None:
        rows = conn.execute(
            queries["open_program_episode_ids"], {"patient_id": patient_id}
        ).fetchall()
        if len(rows) != 1:
            msg = f"the patient has {len(rows)} open programmes: name one (program_id)"
            raise ProgramRequiredError(msg)
        episode_id = int(rows[0][0])
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)


def start_episode(
    conn: Conn,
    *,
    patient_id: UUID,
    kind: ProgramKind,
    started_on: date | None,
    ordering: Practitioner,
    conditions: Sequence[str],
    actor: UUID,
    now: datetime,
    tcm: Tcm | None = None,
) -> Episode:
    """Start an episode of ``kind`` for the patient (see the package for the rules).

    A TCM episode follows a discharge (``tcm``) and starts on its day unless
    ``started_on`` says later; the others need ``started_on``.
    """
    check_npi(ordering.npi)
    name = ordering.name.strip()
    if not name:
        raise InvalidProgramError("the ordering practitioner's name is empty")
    codes = normalize_conditions(conditions)
    if kind is ProgramKind.CCM and len(codes) < CCM_MIN_CONDITIONS:
        msg = f"CCM needs two or more chronic conditions, {len(codes)} given"
        raise TooFewConditionsError(msg)
    timezone = _timezone_of(conn, patient_id=patient_id)
    if (kind is ProgramKind.TCM) != (tcm is not None):
        raise InvalidProgramError("a TCM episode, and only a TCM episode, follows a discharge")
    if started_on is None:
        if tcm is None:
            raise InvalidDatesError("the episode's start date is missing")
        started_on = tcm.discharged_on
    if tcm is not None:
        if started_on < tcm.discharged_on:
            raise InvalidDatesError("a TCM episode starts on the day of discharge or later")
        # The milestones that come with the discharge, by the rules of every statement.
        discharge = replace(tcm, complexity=None, med_reconciled_on=None, face_to_face_on=None,
                            first_contact_at=None)  # fmt: skip
        begun = Episode(0, patient_id, kind, started_on, None, ordering, codes, None, None,
                        discharge, actor, now, None, timezone)  # fmt: skip
        if tcm.discharged_on > begun.local_date(now):
            raise InvalidDatesError("the discharge cannot be in the future")
        for statement in tcm.milestones():
            check(statement, begun, now=now)
    span = conn.execute(
        queries["program_kind_span"], {"patient_id": patient_id, "kind": kind.value}
    ).fetchone()
    assert span is not None
    any_open, last_end = span
    if any_open:
        raise ProgramOpenError(f"the patient has an open {kind} episode; end it first")
    if last_end is not None and started_on <= last_end:
        msg = f"the patient's last {kind} episode ended on {last_end}; start after it"
        raise InvalidDatesError(msg)
    params = {
        "patient_id": patient_id,
        "kind": kind.value,
        "started_on": started_on,
        "ordering_name": name,
        "ordering_npi": ordering.npi,
        "conditions": list(codes),
        "discharged_on": tcm.discharged_on if tcm else None,
        "discharge_setting": tcm.setting.value if tcm else None,
        "actor": actor,
        "now": now,
    }
    try:
        with conn.transaction():
            row = conn.execute(queries["insert_program_episode"], params).fetchone()
    except psycopg.errors.UniqueViolation as exc:  # another request started one meanwhile
        raise ProgramOpenError(f"the patient has an open {kind} episode") from exc
    assert row is not None
    stored = get_episode(conn, patient_id=patient_id, episode_id=int(row[0]))
    if tcm is None:
        return stored
    for statement in tcm.milestones():
        insert_record(conn, episode=stored, statement=statement, actor=actor, now=now)
    return get_episode(conn, patient_id=patient_id, episode_id=stored.id)


def record(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int,
    statements: Sequence[Statement],
    actor: UUID,
    now: datetime,
) -> Episode:
    """Record the statements on the episode: its consent, RPM set-up, TCM milestones.

    Each fact once (:class:`AlreadyRecordedError` for one recorded already);
    every statement passes :func:`programs.facts.check` or nothing is stored.
    """
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    checked = [check(s, episode, now=now) for s in statements]
    facts = [s.fact for s in checked]
    if len(set(facts)) != len(facts):
        raise InvalidProgramError("a fact is given twice")
    again = [LABEL[fact] for fact in facts if recorded(episode, fact)]
    if again:
        raise AlreadyRecordedError(f"recorded already: {', '.join(again)}")
    for statement in checked:
        insert_record(conn, episode=episode, statement=statement, actor=actor, now=now)
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)


def end_episode(
    conn: Conn, *, patient_id: UUID, episode_id: int, ended_on: date, actor: UUID, now: datetime
) -> Episode:
    """End the episode on ``ended_on`` (its last day, not in the future), not before time
    logged toward it."""
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    if not episode.is_open:
        raise ProgramClosedError(f"programme {episode_id} ended on {episode.ended_on}")
    if not episode.started_on <= ended_on <= episode.local_date(now):
        msg = f"an end is between the start ({episode.started_on}) and today"
        raise InvalidDatesError(msg)
    _, last = time_span(conn, episode_id=episode_id)
    if last is not None and episode.local_date(last) > ended_on:
        msg = f"time is logged toward it on {episode.local_date(last)}; correct that first"
        raise InvalidDatesError(msg)
    params = {"id": episode_id, "ended_on": ended_on, "actor": actor}
    conn.execute(queries["close_program_episode"], params)
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)
