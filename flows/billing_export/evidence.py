"""A month's billing evidence read from storage, a batch of patients at a time.

Set-based: a few queries per batch (``hub/sql/billing.sql``), whatever its
size: the patients, their episodes and what is recorded of them (consent,
set-up, TCM milestones: :func:`programs.records.records_of`), the month's
time (:func:`care_evidence`), and (seldom) the set-up history of older RPM
episodes (:func:`device_evidence`). Their days with sensed data are read once for all batches
(:mod:`flows.billing_export.sensed`).
Repository functions: keyword-only, take the connection, never commit.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from billing.models import Month
from flows.billing_export.calendar import (
    rpm_targets,
    rules_of_month,
    tcm_discharge_range,
    utc_bounds,
)
from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from hub.db import Conn
from hub.sql import queries
from programs.models import ConsentMethod, Fact, Practitioner, Record, Tcm
from programs.records import episode_parts, records_of

__all__ = [
    "EpisodeFacts",
    "PatientEvidence",
    "Scope",
    "ScopePatient",
    "TimeFacts",
    "care_evidence",
    "count_scope",
    "device_evidence",
    "scope_patients",
    "signed_among",
]

_NIL = UUID(int=0)
RPM = ProgramKind.RPM
_KINDS = {kind.value: kind for kind in ProgramKind}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose patients: everyone's (``user_id`` None: an admin) or a user's panel (a
    supervisor's: their own and their coordinators' patients)."""

    user_id: UUID | None = None

    @property
    def key(self) -> str:
        """How a sign-off names the scope: ``all`` or ``supervisor:<user id>``."""
        return "all" if self.user_id is None else f"supervisor:{self.user_id}"

    def params(self) -> dict[str, Any]:
        return {"all": self.user_id is None, "user_id": self.user_id}


@dataclass(frozen=True, slots=True)
class ScopePatient:
    id: UUID
    timezone: str
    identifiers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    """What billing reads of a programme episode."""

    id: int
    kind: ProgramKind
    started_on: date
    ended_on: date | None
    ordering: Practitioner
    consent_on: date | None
    consent_method: ConsentMethod | None
    setup_on: date | None
    setup_by: str | None
    discharged_on: date | None = None
    discharge_setting: DischargeSetting | None = None
    complexity: Complexity | None = None
    med_reconciled_on: date | None = None
    face_to_face_on: date | None = None
    first_contact_at: datetime | None = None
    #: Each fact recorded (consent, set-up, TCM milestones): its record, with who and when.
    recorded: Mapping[Fact, Record] = field(default_factory=dict)
    #: TCM: the unsuccessful attempts at the interactive contact, the earliest first.
    contact_attempts: tuple[Record, ...] = ()

    def covers(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


@dataclass(frozen=True, slots=True)
class TimeFacts:
    """A time entry that counts in the month; ``own_month`` is set when it was moved to
    this month because its own had been signed."""

    id: int
    episode_id: int
    kind: ProgramKind
    started_at: datetime
    seconds: int
    activity: str
    interactive: bool
    author: str
    own_month: date | None = None


@dataclass(frozen=True, slots=True)
class PatientEvidence:
    """One patient's evidence for one month.

    ``days`` are the local days with sensed data, in order (of the window
    read: :mod:`flows.billing_export.sensed`), ``serials`` the same by device;
    ``setup_history`` maps an older RPM episode to the first days of its
    earliest period before that window that earned the set-up (absent: none
    did, or the window shows it).
    """

    patient: ScopePatient
    episodes: tuple[EpisodeFacts, ...] = ()
    days: tuple[date, ...] = ()
    serials: Mapping[str, frozenset[date]] | None = None
    setup_history: Mapping[int, tuple[date, ...]] | None = None
    entries: tuple[TimeFacts, ...] = ()


def count_scope(conn: Conn, *, scope: Scope) -> int:
    """How many patients the scope holds."""
    row = conn.execute(queries["billing_scope_count"], scope.params()).fetchone()
    assert row is not None
    return int(row[0])


def scope_patients(
    conn: Conn, *, scope: Scope, after: UUID | None, limit: int
) -> list[ScopePatient]:
    """The scope's next ``limit`` patients by id, after ``after``."""
    params = {**scope.params(), "after": after or _NIL, "limit": limit}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["billing_scope_patients"], params).fetchall()
    return [
        ScopePatient(
            r["id"], r["timezone"], tuple((i["system"], i["value"]) for i in r["identifiers"])
        )
        for r in rows
    ]


def signed_among(conn: Conn, *, month: Month, patient_ids: Sequence[UUID]) -> set[UUID]:
    """Which of these patients have the month signed already."""
    params = {"month": month.first_day, "patient_ids": list(patient_ids)}
    return {row[0] for row in conn.execute(queries["billing_signed_among"], params)}


def _episode(row: Mapping[str, Any], records: Sequence[Record]) -> EpisodeFacts:
    setting = row["discharge_setting"]
    discharge = Tcm(row["discharged_on"], DischargeSetting(setting)) if setting else None
    parts = episode_parts(records, discharge)
    consent, setup, tcm = parts.consent, parts.setup, parts.tcm
    return EpisodeFacts(
        id=row["id"],
        kind=_KINDS[row["kind"]],
        started_on=row["started_on"],
        ended_on=row["ended_on"],
        ordering=Practitioner(row["ordering_name"], row["ordering_npi"]),
        consent_on=consent.on if consent else None,
        consent_method=consent.method if consent else None,
        setup_on=setup.on if setup else None,
        setup_by=setup.by if setup else None,
        discharged_on=tcm.discharged_on if tcm else None,
        discharge_setting=tcm.setting if tcm else None,
        complexity=tcm.complexity if tcm else None,
        med_reconciled_on=tcm.med_reconciled_on if tcm else None,
        face_to_face_on=tcm.face_to_face_on if tcm else None,
        first_contact_at=tcm.first_contact_at if tcm else None,
        recorded=parts.recorded,
        contact_attempts=parts.attempts,
    )


def _episodes(
    conn: Conn, month: Month, ids: list[UUID], entry_episodes: set[int]
) -> dict[UUID, list[EpisodeFacts]]:
    tcm_from, tcm_to = tcm_discharge_range(month, rules_of_month(month))
    params = {
        "patient_ids": ids,
        "first": month.first_day,
        "last": month.last_day,
        "tcm_from": tcm_from,
        "tcm_to": tcm_to,
        "episode_ids": sorted(entry_episodes),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries["billing_episodes"], params).fetchall()
    records = records_of(conn, episode_ids=[row["id"] for row in rows])
    found: dict[UUID, list[EpisodeFacts]] = defaultdict(list)
    for row in rows:
        found[row["patient_id"]].append(_episode(row, records.get(row["id"], ())))
    return found


def _history_needed(
    month: Month,
    patients: Sequence[ScopePatient],
    episodes: Mapping[UUID, list[EpisodeFacts]],
    days: Mapping[UUID, tuple[date, ...]],
) -> list[tuple[int, UUID, date, date]]:
    """The RPM episodes whose set-up may have been earned before the days read: their
    first period in the month has two periods or more before it, and the one just before
    it (in the days read) did not earn it. (episode, patient, start, end of what to read)."""
    rules = rules_of_month(month)
    needed = []
    for p in patients:
        mine = days.get(p.id, ())
        for e in episodes.get(p.id, ()):
            targets = rpm_targets(e.started_on, e.ended_on, month) if e.kind is RPM else ()
            if not targets or targets[0].index < 2:
                continue
            before = targets[0].first_day
            previous = before - timedelta(days=rules.rpm.period_days)
            earned = bisect.bisect_left(mine, before) - bisect.bisect_left(mine, previous)
            if earned < rules.rpm.setup.min_days:
                needed.append((e.id, p.id, e.started_on, previous))
    return needed


def _setup_history(
    conn: Conn,
    month: Month,
    history: list[tuple[int, UUID, date, date]],
    zones: Mapping[UUID, str],
) -> dict[int, tuple[date, ...]]:
    if not history:
        return {}
    rules = rules_of_month(month)
    utc_from, utc_to = utc_bounds(min(h[2] for h in history), max(h[3] for h in history))
    params = {
        "episode_ids": [h[0] for h in history],
        "patient_ids": [h[1] for h in history],
        "zones": [zones[h[1]] for h in history],
        "starts": [h[2] for h in history],
        "befores": [h[3] for h in history],
        "period_days": rules.rpm.period_days,
        "min_days": rules.rpm.setup.min_days,
        "utc_from": utc_from,
        "utc_to": utc_to,
    }
    rows = conn.execute(queries["billing_setup_history"], params).fetchall()
    return {int(episode_id): tuple(days) for episode_id, days in rows}


def _entries(conn: Conn, month: Month, ids: list[UUID]) -> dict[UUID, list[TimeFacts]]:
    utc_from, utc_to = utc_bounds(month.first_day, month.last_day)
    params = {
        "patient_ids": ids,
        "month": month.first_day,
        "utc_from": utc_from,
        "utc_to": utc_to,
    }
    found: dict[UUID, list[TimeFacts]] = defaultdict(list)
    for row in conn.execute(queries["billing_time_entries"], params):
        entry, patient_id, episode, kind, started, seconds, activity, live, author, own = row
        found[patient_id].append(
            TimeFacts(entry, episode, _KINDS[kind], started, seconds, activity, live, author, own)
        )
    return found


def care_evidence(
    conn: Conn, *, month: Month, patients: Sequence[ScopePatient]
) -> list[PatientEvidence]:
    """The patients' episodes and the month's time, in their order (no days: the care
    rows' evidence)."""
    if not patients:
        return []
    ids = [p.id for p in patients]
    entries = _entries(conn, month, ids)
    used = {e.episode_id for found in entries.values() for e in found}
    episodes = _episodes(conn, month, ids, used)
    return [
        PatientEvidence(
            patient=p,
            episodes=tuple(episodes.get(p.id, ())),
            entries=tuple(entries.get(p.id, ())),
        )
        for p in patients
    ]


def device_evidence(
    conn: Conn,
    *,
    month: Month,
    care: Sequence[PatientEvidence],
    devices: Mapping[UUID, Mapping[str, frozenset[date]]],
) -> list[PatientEvidence]:
    """The device rows' evidence: the patients and episodes of their ``care`` evidence
    (:func:`care_evidence`), their days with sensed data per device
    (:class:`~flows.billing_export.sensed.SensedDays`) and, where needed, the set-up
    history."""
    patients = [e.patient for e in care]
    episodes = {e.patient.id: list(e.episodes) for e in care}
    zones = {p.id: p.timezone for p in patients}
    days = {p: tuple(sorted(frozenset().union(*by.values()))) for p, by in devices.items()}
    setup = _setup_history(conn, month, _history_needed(month, patients, episodes, days), zones)
    return [
        replace(
            e,
            entries=(),
            days=days.get(e.patient.id, ()),
            serials=devices.get(e.patient.id, {}),
            setup_history={x.id: setup[x.id] for x in e.episodes if x.id in setup},
        )
        for e in care
    ]
