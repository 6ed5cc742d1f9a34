"""The append-only record of what is recorded of an episode beside its time (migration 0028).

Repository functions: keyword-only, take the connection, never commit. A row
is a :class:`~programs.models.Statement` (the patient's consent, the RPM
set-up, a TCM milestone, a contact attempt) with who recorded it and when;
rows are only added (the database refuses UPDATE, DELETE and TRUNCATE of
them to everyone): a correction is a new row that supersedes one, with why.
What an episode holds now is read from them (:func:`episode_parts`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from hub.care_programs import Complexity
from hub.db import Conn
from hub.sql import queries
from programs.exceptions import AlreadySupersededError
from programs.facts import MANY
from programs.models import (
    Consent,
    ConsentMethod,
    ContactMethod,
    Episode,
    Fact,
    Record,
    Setup,
    Statement,
    Tcm,
)

__all__ = ["Parts", "episode_parts", "insert_once", "insert_record", "records_of"]


def insert_once(conn: Conn, *, query: LiteralString, params: Mapping[str, Any], what: str) -> int:
    """Insert an append-only row (a record, a time entry) and return its id;
    :class:`AlreadySupersededError` if the row it supersedes was superseded meanwhile (the
    database keeps each superseded at most once)."""
    try:
        with conn.transaction():
            row = conn.execute(query, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:  # a concurrent correction won
        raise AlreadySupersededError(f"{what} was corrected meanwhile") from exc
    assert row is not None
    return int(row[0])


def insert_record(
    conn: Conn,
    *,
    episode: Episode,
    statement: Statement,
    actor: UUID,
    now: datetime,
    supersedes: int | None = None,
    reason: str | None = None,
    withdrawn: bool = False,
) -> int:
    """Add the statement to the episode's record; its id. A correction names the record
    it ``supersedes`` (the latest of its chain: :class:`AlreadySupersededError` if another
    correction won) and why; a withdrawal's statement names the fact only."""
    params = {
        "episode_id": episode.id,
        "patient_id": episode.patient_id,
        "fact": statement.fact.value,
        "on_date": statement.on,
        "at_time": statement.at,
        "method": statement.method.value if statement.method else None,
        "performer": statement.by,
        "complexity": statement.complexity.value if statement.complexity else None,
        "attempted_by": statement.attempted_by,
        "note": statement.note,
        "recorded_by": actor,
        "recorded_at": now,
        "supersedes": supersedes,
        "reason": reason,
        "withdrawn": withdrawn,
    }
    query = queries["insert_program_record"]
    return insert_once(conn, query=query, params=params, what=f"record {supersedes}")


def _record(row: Mapping[str, Any]) -> Record:
    fact, method, complexity = Fact(row["fact"]), row["method"], row["complexity"]
    how = ContactMethod if fact is Fact.CONTACT_ATTEMPT else ConsentMethod
    statement = Statement(
        fact,
        on=row["on_date"],
        at=row["at_time"],
        method=how(method) if method is not None else None,
        by=row["performer"],
        complexity=Complexity(complexity) if complexity is not None else None,
        attempted_by=row["attempted_by"],
        note=row["note"],
    )
    return Record(
        id=row["id"],
        episode_id=row["episode_id"],
        statement=statement,
        recorded_by=row["recorded_by"],
        recorded_by_name=row["recorded_by_name"],
        recorded_at=row["recorded_at"],
        attempted_by_name=row["attempted_by_name"],
        supersedes=row["supersedes"],
        reason=row["reason"],
        withdrawn=row["withdrawn"],
        superseded_by=row["superseded_by"],
    )


def records_of(conn: Conn, *, episode_ids: Collection[int]) -> dict[int, list[Record]]:
    """The records of the episodes, each episode's oldest first, corrected ones too."""
    found: dict[int, list[Record]] = defaultdict(list)
    if not episode_ids:
        return found
    params = {"episode_ids": list(episode_ids)}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(queries["program_records_of_episodes"], params):
            record = _record(row)
            found[record.episode_id].append(record)
    return found


@dataclass(frozen=True, slots=True)
class Parts:
    """What an episode holds now, from its records."""

    consent: Consent | None
    setup: Setup | None
    #: The discharge given, with its milestones.
    tcm: Tcm | None
    #: Each fact recorded once, and its record.
    recorded: dict[Fact, Record]
    #: The contact attempts, the earliest first.
    attempts: tuple[Record, ...]


def episode_parts(records: Iterable[Record], tcm: Tcm | None) -> Parts:
    """What an episode holds now, from its records (``tcm``: its discharge, if any): the
    records no correction replaces, less the withdrawals."""
    records = [r for r in records if r.current]
    latest = {r.fact: r for r in records if r.fact not in MANY}
    attempts = sorted((r for r in records if r.fact in MANY), key=lambda r: (r.statement.at, r.id))
    consent = setup = None
    if (given := latest.get(Fact.CONSENT)) is not None:
        s = given.statement
        assert s.on is not None
        assert isinstance(s.method, ConsentMethod)
        assert given.recorded_by is not None
        assert given.recorded_at is not None
        consent = Consent(s.on, s.method, given.recorded_by, given.recorded_at)
    if (done := latest.get(Fact.SETUP)) is not None:
        s = done.statement
        assert s.on is not None
        assert s.by is not None
        assert done.recorded_by is not None
        setup = Setup(s.on, s.by, done.recorded_by, done.recorded_at)
    if tcm is not None:

        def value(fact: Fact) -> Statement:
            record = latest.get(fact)
            return record.statement if record is not None else Statement(fact)

        tcm = Tcm(
            tcm.discharged_on,
            tcm.setting,
            complexity=value(Fact.COMPLEXITY).complexity,
            med_reconciled_on=value(Fact.MED_RECONCILIATION).on,
            face_to_face_on=value(Fact.FACE_TO_FACE).on,
            first_contact_at=value(Fact.CONTACT).at,
        )
    return Parts(consent, setup, tcm, latest, tuple(attempts))
