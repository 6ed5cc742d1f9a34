"""Episodes of care programmes: start one, record its consent, set-up and milestones, end it.

Repository functions: keyword-only, take the connection, never commit.
Consent, the RPM set-up (99453: once per episode) and each TCM milestone
are recorded once; a second recording is :class:`AlreadyRecordedError`,
so what a claim would rest on is not silently rewritten.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

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
from programs.models import (
    Complexity,
    Consent,
    ConsentMethod,
    DischargeSetting,
    Episode,
    Practitioner,
    ProgramKind,
    Setup,
    Tcm,
)

#: CCM's eligibility: two or more chronic conditions.
CCM_MIN_CONDITIONS = 2


def _episode(row: Mapping[str, Any]) -> Episode:
    consent = (
        Consent(
            on=row["consent_on"],
            method=ConsentMethod(row["consent_method"]),
            recorded_by=row["consent_recorded_by"],
            recorded_at=row["consent_recorded_at"],
        )
        if row["consent_on"] is not None
        else None
    )
    setup = (
        Setup(on=row["setup_on"], by=row["setup_by"], recorded_by=row["setup_recorded_by"])
        if row["setup_on"] is not None
        else None
    )
    tcm = (
        Tcm(
            discharged_on=row["discharged_on"],
            setting=DischargeSetting(row["discharge_setting"]),
            complexity=Complexity(row["complexity"]) if row["complexity"] else None,
            med_reconciled_on=row["med_reconciled_on"],
            face_to_face_on=row["face_to_face_on"],
            first_contact_at=row["first_contact_at"],
        )
        if row["discharged_on"] is not None
        else None
    )
    return Episode(
        id=row["id"],
        patient_id=row["patient_id"],
        kind=ProgramKind(row["kind"]),
        started_on=row["started_on"],
        ended_on=row["ended_on"],
        ordering=Practitioner(name=row["ordering_name"], npi=row["ordering_npi"]),
        conditions=tuple(row["conditions"]),
        consent=consent,
        setup=setup,
        tcm=tcm,
        created_by=row["created_by"],
        created_at=row["created_at"],
        ended_by=row["ended_by"],
        timezone=row["timezone"],
    )


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
    return _episode(row)


def list_episodes(conn: Conn, *, patient_id: UUID) -> list[Episode]:
    """The patient's episodes, the newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["program_episodes_of_patient"], {"patient_id": patient_id})
        return [_episode(row) for row in rows.fetchall()]


def open_episodes(
    conn: Conn, *, kinds: Collection[ProgramKind], patient_ids: Collection[UUID] | None = None
) -> list[Episode]:
    """The open episodes of ``kinds``: every patient's, or only ``patient_ids``'."""
    params = _open_params(kinds, patient_ids)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["open_program_episodes"], params)
        return [_episode(row) for row in rows.fetchall()]


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
        _check_milestones(tcm, timezone=timezone, now=now)
        if started_on < tcm.discharged_on:
            raise InvalidDatesError("a TCM episode starts on the day of discharge or later")
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
        "complexity": tcm.complexity.value if tcm and tcm.complexity else None,
        "med_reconciled_on": tcm.med_reconciled_on if tcm else None,
        "face_to_face_on": tcm.face_to_face_on if tcm else None,
        "first_contact_at": tcm.first_contact_at if tcm else None,
        "actor": actor,
        "now": now,
    }
    try:
        with conn.transaction():
            row = conn.execute(queries["insert_program_episode"], params).fetchone()
    except psycopg.errors.UniqueViolation as exc:  # another request started one meanwhile
        raise ProgramOpenError(f"the patient has an open {kind} episode") from exc
    assert row is not None
    return get_episode(conn, patient_id=patient_id, episode_id=int(row[0]))


def record_consent(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int,
    on: date,
    method: ConsentMethod,
    actor: UUID,
    now: datetime,
) -> Episode:
    """Record the patient's consent to the episode (once)."""
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    if episode.consent is not None:
        raise AlreadyRecordedError(f"consent was recorded on {episode.consent.recorded_at}")
    if on > episode.local_date(now):
        raise InvalidDatesError("consent cannot be dated in the future")
    params = {"id": episode_id, "on": on, "method": method.value, "actor": actor, "now": now}
    conn.execute(queries["record_program_consent"], params)
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)


def record_setup(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int,
    on: date,
    by: str,
    actor: UUID,
    now: datetime,
) -> Episode:
    """Record an RPM episode's device set-up and education (99453: once per episode)."""
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    if episode.kind is not ProgramKind.RPM:
        raise InvalidProgramError(f"device set-up is recorded on RPM episodes, not {episode.kind}")
    if episode.setup is not None:
        raise AlreadyRecordedError(f"the set-up was recorded already (on {episode.setup.on})")
    if not by.strip():
        raise InvalidProgramError("who did the set-up is missing")
    if on > episode.local_date(now) or (episode.ended_on is not None and on > episode.ended_on):
        raise InvalidDatesError("the set-up date is in the future or after the episode ended")
    params = {"id": episode_id, "on": on, "by": by.strip(), "actor": actor}
    conn.execute(queries["record_program_setup"], params)
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)


def _check_milestones(tcm: Tcm, *, timezone: str, now: datetime) -> None:
    """The discharge and the milestones fall between the discharge and today."""
    zone = ZoneInfo(timezone)
    days = [tcm.discharged_on, tcm.med_reconciled_on, tcm.face_to_face_on]
    if tcm.first_contact_at is not None:
        days.append(tcm.first_contact_at.astimezone(zone).date())
    today = now.astimezone(zone).date()
    if any(day is not None and not tcm.discharged_on <= day <= today for day in days):
        raise InvalidDatesError("a TCM milestone is after the discharge, and not in the future")


def record_tcm_milestones(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int,
    complexity: Complexity | None = None,
    med_reconciled_on: date | None = None,
    face_to_face_on: date | None = None,
    first_contact_at: datetime | None = None,
    now: datetime,
) -> Episode:
    """Record the TCM milestones given (each once; the ones not given stay as they are)."""
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    if episode.tcm is None:
        raise InvalidProgramError(f"milestones are TCM's, not {episode.kind}'s")
    was = episode.tcm
    again = [
        name
        for name, new, old in (
            ("complexity", complexity, was.complexity),
            ("med_reconciled_on", med_reconciled_on, was.med_reconciled_on),
            ("face_to_face_on", face_to_face_on, was.face_to_face_on),
            ("first_contact_at", first_contact_at, was.first_contact_at),
        )
        if new is not None and old is not None
    ]
    if again:
        raise AlreadyRecordedError(f"recorded already: {', '.join(again)}")
    now_is = replace(
        was,
        complexity=complexity or was.complexity,
        med_reconciled_on=med_reconciled_on or was.med_reconciled_on,
        face_to_face_on=face_to_face_on or was.face_to_face_on,
        first_contact_at=first_contact_at or was.first_contact_at,
    )
    _check_milestones(now_is, timezone=episode.timezone, now=now)
    params = {
        "id": episode_id,
        "complexity": now_is.complexity.value if now_is.complexity else None,
        "med_reconciled_on": now_is.med_reconciled_on,
        "face_to_face_on": now_is.face_to_face_on,
        "first_contact_at": now_is.first_contact_at,
    }
    conn.execute(queries["record_tcm_milestones"], params)
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
    row = conn.execute(queries["program_episode_last_entry"], {"id": episode_id}).fetchone()
    last = row[0] if row else None
    if last is not None and episode.local_date(last) > ended_on:
        msg = f"time is logged toward it on {episode.local_date(last)}; correct that first"
        raise InvalidDatesError(msg)
    params = {"id": episode_id, "ended_on": ended_on, "actor": actor}
    conn.execute(queries["close_program_episode"], params)
    return get_episode(conn, patient_id=patient_id, episode_id=episode_id)
