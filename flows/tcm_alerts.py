"""Missed transitional-care deadlines: their alerts, opened and resolved on a schedule.

:func:`run_tcm_checks` runs every ``adherence_interval_s`` on the scheduler
(:mod:`flows.schedule`). A deadline of :mod:`flows.tcm_clocks` that passed
unmet opens an alert of its own kind, ``tcm_contact_missed`` or
``tcm_visit_missed``, ``medium``, carrying which deadline, when it was due and
the discharge. Opened alerts are pushed to the patient's coordinators like
every new alert (:func:`alerts.lifecycle.notify_panel`; not critical, so with
normal urgency and after their quiet hours): a patient just out of hospital
whom nobody has reached is worth a push, and medium keeps it below the
clinical alerts that a critical push is for. It opens once per deadline: a
coordinator who resolves it by hand is not asked again (the worklist still
shows the overdue deadline). It resolves itself, with a
``resolved_automatically`` event saying why, once the milestone is recorded
(a late contact still matters clinically), or the contact has been
attempted in time as often as the rules accept instead (two unsuccessful
attempts: CMS's TCM FAQ), or the episode ends, or its service period does.
A contact so attempted opens no alert. The API settles a patient's alerts in the transaction
that records a milestone or ends an episode (:func:`settle_tcm_alerts`), so
they do not wait for the next pass.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from alerts.service import record_detection, resolve_automatically
from billing.models import local_midnight
from flows.tcm_clocks import CONTACT, VISIT, Clock, EpisodeClocks, day_text, episode_clocks
from hub.alerting import AlertKind, Detection, Severity
from hub.care_programs import ProgramKind
from hub.db import Conn
from hub.sql import queries
from programs.episodes import open_episodes

#: The alert kind of each clock, opened when it passes unmet.
MISSED: Mapping[str, AlertKind] = {
    CONTACT: AlertKind.TCM_CONTACT_MISSED,
    VISIT: AlertKind.TCM_VISIT_MISSED,
}
TCM_KINDS = tuple(MISSED.values())


def _detection(clocks: EpisodeClocks, clock: Clock, now: datetime) -> Detection:
    episode, discharged = clocks.episode, clock.discharged_on
    what = "interactive contact" if clock.name == CONTACT else "face-to-face visit"
    reason = (
        f"No {what} recorded by {day_text(clock.due)}: due within {clock.within} of the "
        f"discharge on {day_text(discharged)}"
    )
    reason += f"; {clock.fallback}." if clock.fallback else "."
    return Detection(
        patient_id=episode.patient_id,
        kind=MISSED[clock.name],
        severity=Severity.MEDIUM,
        source=clock.rule,
        measure=None,
        observed={
            "episode_id": episode.id,
            "hours_overdue": round((now - clock.due_at) / timedelta(hours=1), 1),
        },
        baseline={"due_days_after_discharge": (clock.due - discharged).days},
        window_start=local_midnight(discharged, episode.timezone),
        window_end=clock.due_at,
        reason=reason,
    )


def _met_sentence(clock: Clock) -> str:
    what = "interactive contact" if clock.name == CONTACT else "face-to-face visit"
    met = clock.met
    when = f"{met.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if isinstance(met, datetime) else str(met)
    late = f", after its deadline ({clock.due})" if clock.met_late else ""
    return f"the {what} was recorded ({when}{late})"


def _attempted_sentence(clock: Clock) -> str:
    """``the interactive contact was attempted twice in time (... UTC, ... UTC)``."""
    when = ", ".join(f"{a.astimezone(UTC):%Y-%m-%d %H:%M} UTC" for a in clock.attempts)
    return f"the interactive contact was {clock.tried} in time ({when})"


@dataclass(frozen=True, slots=True)
class _State:
    unresolved: bool
    last_opened_at: datetime


def _alert_state(
    conn: Conn, *, patient_ids: Collection[UUID] | None
) -> dict[tuple[UUID, AlertKind], _State]:
    params = {
        "kinds": [k.value for k in TCM_KINDS],
        "all": patient_ids is None,
        "patient_ids": list(patient_ids or ()),
    }
    return {
        (p, AlertKind(kind)): _State(bool(unresolved), last)
        for p, kind, unresolved, last in conn.execute(queries["alert_kind_state"], params)
    }


def run_tcm_checks(
    conn: Conn, *, now: datetime, patient_ids: Collection[UUID] | None = None
) -> int:
    """One pass over the open TCM episodes (or ``patient_ids``'); returns the alerts opened.

    A deadline that passed unmet opens its alert unless one of its kind was
    opened since the deadline passed (open, or resolved by hand); an alert
    whose cause is gone resolves itself (see the module docstring).
    """
    state = _alert_state(conn, patient_ids=patient_ids)
    opened = 0
    judged: set[UUID] = set()
    for episode in open_episodes(conn, kinds=[ProgramKind.TCM], patient_ids=patient_ids):
        judged.add(episode.patient_id)
        clocks = episode_clocks(episode)
        if clocks is None:
            continue
        for kind, missed, cleared in _judge(clocks, now):
            key = (episode.patient_id, kind)
            if missed is not None:
                seen = state.get(key)
                if seen is None or (not seen.unresolved and seen.last_opened_at < missed.due_at):
                    record_detection(conn, detection=_detection(clocks, missed, now), now=now)
                    opened += 1
            elif cleared is not None and key in state and state[key].unresolved:
                _resolve(conn, episode.patient_id, kind, cleared, now)
    for (patient_id, kind), seen in state.items():
        if seen.unresolved and patient_id not in judged:
            _resolve(conn, patient_id, kind, "no transitional-care episode is open", now)
    return opened


def _judge(
    clocks: EpisodeClocks, now: datetime
) -> list[tuple[AlertKind, Clock | None, str | None]]:
    """Per TCM alert kind: the clock missed (open the alert), or why it cleared."""
    today = clocks.episode.local_date(now)
    out: list[tuple[AlertKind, Clock | None, str | None]] = []
    for clock in clocks.clocks:
        kind = MISSED[clock.name]
        if not clocks.running(today):
            ended = f"the 30-day transitional-care period ended on {clocks.period_ends}"
            out.append((kind, None, ended))
        elif clock.met is not None:
            out.append((kind, None, _met_sentence(clock)))
        elif clock.attempted:
            out.append((kind, None, _attempted_sentence(clock)))
        elif now >= clock.due_at:
            out.append((kind, clock, None))
    return out


def _resolve(conn: Conn, patient_id: UUID, kind: AlertKind, why: str, now: datetime) -> None:
    resolve_automatically(conn, patient_id=patient_id, kind=kind, now=now, cleared_by=why)


def settle_tcm_alerts(conn: Conn, *, patient_id: UUID, now: datetime) -> int:
    """Resolve the patient's TCM alerts whose cause is gone (after a milestone or an end).

    Opens nothing (that is the scheduled pass's); returns how many resolved.
    """
    episodes = open_episodes(conn, kinds=[ProgramKind.TCM], patient_ids=[patient_id])
    why: dict[AlertKind, str] = {}
    if not episodes:
        why = dict.fromkeys(TCM_KINDS, "no transitional-care episode is open")
    for episode in episodes:
        clocks = episode_clocks(episode)
        for kind, missed, cleared in _judge(clocks, now) if clocks else ():
            if missed is None and cleared is not None:
                why[kind] = cleared
    resolved = 0
    for kind, cleared in why.items():
        resolved += resolve_automatically(
            conn, patient_id=patient_id, kind=kind, now=now, cleared_by=cleared
        )
    return resolved
