"""Rows of a month's care-management time (RPM 99470/99457/99458, CCM 99490/99439) and of
transitional care that ends in the month (99496/99495).

Time: the engine's :func:`billing.time_codes.month_time` over the entries
that count in the month (an entry counts its whole minutes, as the engine
does: 90 s is 1 minute). Without an interactive communication the month
earns nothing; the codes its minutes would reach are then rows ``at_risk``
flagged ``no_interactive_contact``. An entry logged after its own month was
signed counts here, with ``moved_from`` naming its own month.

Transitional care: the engine's clocks (:mod:`billing.tcm`) over the
episode's discharge, its first interactive contact and its face-to-face
visit, in the month its 30-day service period ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from billing import models as engine
from billing.models import Month, TimeEntry, zone
from billing.rules import rules_for
from billing.rules.schema import Rules
from billing.tcm import contact_clock, contact_met, timely, visit_clocks, visit_code
from billing.time_codes import codes_for_minutes, month_time
from flows.billing_export.calendar import (
    episode_rules,
    rules_of_month,
    tcm_discharge_range,
)
from flows.billing_export.evidence import EpisodeFacts, PatientEvidence, TimeFacts
from flows.billing_export.rows import (
    ExportRow,
    Flag,
    Service,
    consent_json,
    consent_missing,
    order_json,
    recorded_json,
)
from hub.care_programs import Complexity, ProgramKind
from programs.models import Fact

__all__ = ["tcm_rows", "time_rows"]

_TIMED = tuple(k for k in ProgramKind if k.timed)
#: What is recorded of a transitional-care episode, whose recorder the evidence names.
TCM_FACTS = (Fact.COMPLEXITY, Fact.CONTACT, Fact.FACE_TO_FACE, Fact.MED_RECONCILIATION)


def _engine_entry(entry: TimeFacts, month: Month, time_zone: str) -> TimeEntry:
    """The entry as the engine counts it; one moved here from a signed month is placed at
    the month's first local noon (its real start stays in the evidence)."""
    started = entry.started_at
    if entry.own_month is not None:
        started = datetime.combine(month.first_day, time(12), tzinfo=zone(time_zone))
    return TimeEntry(
        entry_id=str(entry.id),
        program=entry.kind,
        author=entry.author,
        started_at=started,
        interactive=entry.interactive,
        minutes=entry.seconds // 60,
    )


def _entry_json(entry: TimeFacts) -> dict[str, object]:
    return {
        "id": entry.id,
        "episode_id": entry.episode_id,
        "started_at": entry.started_at.isoformat(),
        "seconds": entry.seconds,
        "minutes": entry.seconds // 60,
        "by": entry.author,
        "activity": entry.activity,
        "interactive": entry.interactive,
        "moved_from": entry.own_month.strftime("%Y-%m") if entry.own_month else None,
    }


def _overlaps(episode: EpisodeFacts, month: Month) -> bool:
    return episode.started_on <= month.last_day and (
        episode.ended_on is None or episode.ended_on >= month.first_day
    )


def _contact_json(entries: list[TimeFacts]) -> dict[str, object] | None:
    contact = next((e for e in entries if e.interactive), None)
    if contact is None:
        return None
    return {"entry_id": contact.id, "at": contact.started_at.isoformat(), "by": contact.author}


def time_rows(evidence: PatientEvidence, month: Month) -> Iterator[ExportRow]:
    """One row per code line (or one without a code) per programme with time or an episode."""
    tz = evidence.patient.timezone
    for kind in _TIMED:
        episodes = [e for e in evidence.episodes if e.kind is kind]
        entries = [e for e in evidence.entries if e.kind is kind]
        active = [e for e in episodes if _overlaps(e, month)]
        if not entries and not active:
            continue
        episode = max(active or episodes, key=lambda e: (e.started_on, e.id), default=None)
        spent = month_time(
            [_engine_entry(e, month, tz) for e in entries],
            program=kind,
            month=month,
            time_zone=tz,
        )
        flags: tuple[Flag, ...] = ()
        if episode is not None and consent_missing(episode, month.last_day):
            flags += (Flag.MISSING_CONSENT,)
        if not spent.interactive and spent.minutes > 0:
            flags += (Flag.NO_INTERACTIVE_CONTACT,)
        # The lines earned; else those the minutes would reach (at risk, by the flags).
        lines = spent.lines or codes_for_minutes(spent.minutes, rules_of_month(month).program(kind))
        row = ExportRow(
            patient=evidence.patient,
            program=kind.value,
            episode_id=episode.id if episode else None,
            service=Service.TIME,
            first_day=month.first_day,
            last_day=month.last_day,
            earned=None,
            units=0,
            flags=flags,
            quantity=spent.minutes,
            unit="minutes",
            rules=spent.rules_id,
            evidence={
                "minutes": spent.minutes,
                "entries": [_entry_json(e) for e in entries],
                "interactive_contact": _contact_json(entries),
                "order": order_json(episode),
                "consent": consent_json(episode),
            },
        )
        if not lines:
            yield row
        for line in lines:
            yield replace(row, earned=line.code, units=line.units)


def _tcm_row(evidence: PatientEvidence, episode: EpisodeFacts, month: Month) -> ExportRow:
    assert episode.discharged_on is not None
    assert episode.discharge_setting is not None
    given = episode_rules(episode.discharged_on, month)
    rules = given or rules_for(episode.discharged_on)
    discharge = engine.Discharge(
        episode.discharged_on,
        episode.discharge_setting,
        episode.complexity or Complexity.MODERATE,
        evidence.patient.timezone,
    )
    contact = _tcm_contact(episode, discharge, rules)
    visit = episode.face_to_face_on
    code = visit_code(discharge, visit, rules) if visit else None
    flags: tuple[Flag, ...] = ()
    if episode.complexity is None:
        flags += (Flag.COMPLEXITY_MISSING,)
    if contact["met_by"] is None:
        flags += (Flag.NO_INTERACTIVE_CONTACT,)
    if code is None:
        flags += (Flag.NO_FACE_TO_FACE,)
    reconciled = episode.med_reconciled_on
    if reconciled is None or (visit is not None and reconciled > visit):
        flags += (Flag.MED_RECONCILIATION_MISSING,)
    last = episode.discharged_on + timedelta(days=rules.tcm.service_period_days - 1)
    return ExportRow(
        patient=evidence.patient,
        program=ProgramKind.TCM.value,
        episode_id=episode.id,
        service=Service.TRANSITIONAL_CARE,
        first_day=episode.discharged_on,
        last_day=last,
        earned=code,
        units=1,
        flags=flags,
        quantity=(visit - episode.discharged_on).days if visit else 0,
        unit="days to visit",
        rules=rules.meta.id,
        evidence={
            "discharged_on": episode.discharged_on.isoformat(),
            "setting": episode.discharge_setting.value,
            "complexity": episode.complexity.value if episode.complexity else None,
            "contact": contact,
            "visit": {
                "on": visit.isoformat() if visit else None,
                "due": {c.code or "": c.due.isoformat() for c in visit_clocks(discharge, rules)},
            },
            "med_reconciled_on": reconciled.isoformat() if reconciled else None,
            "order": order_json(episode),
            "recorded": recorded_json(episode, TCM_FACTS),
        },
    )


def _tcm_contact(
    episode: EpisodeFacts, discharge: engine.Discharge, rules: Rules
) -> dict[str, Any]:
    """The interactive contact's evidence: when it was made, when it was due, the
    unsuccessful attempts (each ``in_time`` or not), and what met it: ``contact`` (reached
    in time), ``attempts`` (enough unsuccessful attempts in time: CMS's TCM FAQ) or null."""
    reached = episode.first_contact_at
    tried = [(r, r.statement.at) for r in episode.contact_attempts if r.statement.at]
    unsuccessful = [engine.ContactAttempt(at, reached=False) for _, at in tried]
    in_time = {a.at for a in timely(discharge, unsuccessful, rules)}
    met_by = None
    if reached is not None and timely(discharge, [engine.ContactAttempt(reached, True)], rules):
        met_by = "contact"
    elif contact_met(discharge, unsuccessful, rules):
        met_by = "attempts"
    return {
        "at": reached.isoformat() if reached else None,
        "due": contact_clock(discharge, rules).due.isoformat(),
        "attempts": [
            {
                "at": at.isoformat(),
                "method": str(r.statement.method),
                "by": r.attempted_by_name,
                "in_time": at in in_time,
            }
            for r, at in tried
        ],
        "met_by": met_by,
    }


def tcm_rows(evidence: PatientEvidence, month: Month) -> Iterator[ExportRow]:
    """A row for each transitional-care episode whose service period ends in the month."""
    first, last = tcm_discharge_range(month, rules_of_month(month))
    for episode in evidence.episodes:
        day = episode.discharged_on
        if episode.kind is ProgramKind.TCM and day is not None and first <= day <= last:
            yield _tcm_row(evidence, episode, month)
