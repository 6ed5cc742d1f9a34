"""Corrections of what is recorded of an episode: consent, set-up, TCM milestones, attempts.

Append-only, like the time log (:mod:`programs.timelog`): a correction is a
new record that supersedes one (the latest of its fact's chain; each record
at most once), with who, when and why; the record corrected stays, visible
in the history (:func:`history`). What is not given stays as it was; a
withdrawal supersedes a record with no value (the fact is then not recorded,
and may be recorded anew). The corrected value passes the same rules as a
first recording (:func:`programs.facts.check`), and one more:

* Consent is not moved after, nor withdrawn before, time logged toward the
  episode (:class:`ConsentRequiredError`: correct the time first), so that
  time never counts before its consent.

Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from hub.db import Conn
from hub.exceptions import NotFoundError
from programs.episodes import get_episode, time_span
from programs.exceptions import (
    AlreadySupersededError,
    ConsentRequiredError,
    InvalidProgramError,
)
from programs.facts import FIELDS, LABEL, METHODS, NOTED, check
from programs.models import Episode, Fact, Record, Statement
from programs.records import insert_record, records_of

__all__ = ["CHANGEABLE", "correct", "history"]

#: What a correction may change of each fact: its value (a contact attempt's
#: coordinator stays who made it).
CHANGEABLE: Mapping[Fact, frozenset[str]] = {
    fact: (fields - {"attempted_by"}) | ({"note"} if fact in NOTED else set())
    for fact, fields in FIELDS.items()
}


def history(conn: Conn, *, patient_id: UUID, episode_id: int) -> list[Record]:
    """Every record of the patient's episode, the oldest first: corrected and withdrawn ones
    too, each with the correction that replaces it (``superseded_by``)."""
    get_episode(conn, patient_id=patient_id, episode_id=episode_id)
    return records_of(conn, episode_ids=[episode_id]).get(episode_id, [])


def correct(
    conn: Conn,
    *,
    patient_id: UUID,
    episode_id: int,
    record_id: int,
    reason: str,
    actor: UUID,
    now: datetime,
    changes: Mapping[str, Any] | None = None,
    withdraw: bool = False,
) -> Record:
    """Supersede the record with a corrected one (``changes``: the value fields that change,
    of :data:`CHANGEABLE`), or withdraw it; the new record."""
    if not reason.strip():
        raise InvalidProgramError("a correction says why")
    episode = get_episode(conn, patient_id=patient_id, episode_id=episode_id, for_update=True)
    old = _latest(conn, episode, record_id)
    fact, changes = old.fact, dict(changes or {})
    if withdraw == bool(changes):
        raise InvalidProgramError("a correction changes the value, or withdraws it")
    if not set(changes) <= CHANGEABLE[fact]:
        allowed = ", ".join(sorted(CHANGEABLE[fact]))
        raise InvalidProgramError(f"a correction of {LABEL[fact]} changes {allowed}")
    if changes.get("method") is not None:  # a method is the fact's kind of method
        try:
            changes["method"] = METHODS[fact](changes["method"])
        except ValueError as exc:
            raise InvalidProgramError(
                f"{changes['method']!r} is not a method of {LABEL[fact]}"
            ) from exc
    statement = Statement(fact) if withdraw else replace(old.statement, **changes)
    if not withdraw:
        statement = check(statement, episode, now=now)
    if fact is Fact.CONSENT and episode.kind.needs_consent:
        _check_consent_before_time(conn, episode, statement)
    new_id = insert_record(
        conn,
        episode=episode,
        statement=statement,
        actor=actor,
        now=now,
        supersedes=old.id,
        reason=reason.strip(),
        withdrawn=withdraw,
    )
    return _find(history(conn, patient_id=patient_id, episode_id=episode_id), new_id)


def _latest(conn: Conn, episode: Episode, record_id: int) -> Record:
    """The episode's record, if it may be corrected: the latest of its chain, not a
    withdrawal."""
    record = _find(records_of(conn, episode_ids=[episode.id]).get(episode.id, ()), record_id)
    if record.superseded_by is not None:
        msg = f"record {record_id} was corrected by {record.superseded_by}; correct that one"
        raise AlreadySupersededError(msg)
    if record.withdrawn:
        msg = f"record {record_id} withdrew {LABEL[record.fact]}: record it anew"
        raise InvalidProgramError(msg)
    return record


def _find(records: Iterable[Record], record_id: int) -> Record:
    found = next((r for r in records if r.id == record_id), None)
    if found is None:
        raise NotFoundError(f"record {record_id}")
    return found


def _check_consent_before_time(conn: Conn, episode: Episode, consent: Statement) -> None:
    first, _ = time_span(conn, episode_id=episode.id)
    if first is None:
        return
    day = episode.local_date(first)
    if consent.on is None or consent.on > day:
        msg = f"time is logged toward it on {day}, which needs the consent; correct that first"
        raise ConsentRequiredError(msg)
