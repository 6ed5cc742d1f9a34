"""Transitional-care clocks over the stored programmes: deadlines, missed-deadline alerts.

An open TCM episode (:mod:`programs`) runs two clocks from its discharge,
computed by the rules engine (:mod:`billing.tcm`):

- the **interactive contact**, due by the end of the 2nd business day after
  the day of discharge (US federal holidays as observed do not count); met
  when the episode's ``first_contact_at`` is recorded;
- the **face-to-face visit**, due by day 7 for high complexity (99496) and
  day 14 for moderate (99495); met when ``face_to_face_on`` is recorded. A
  high-complexity patient seen on days 8 to 14 still bills 99495: the 7-day
  deadline is the one shown, and its note says so. While the complexity is
  not recorded the 7-day deadline applies (the earlier one: a visit by then
  bills whichever complexity is recorded later).

Both are the patient's days (the patient's time zone), and each runs out at
the patient's midnight after its last day. The clocks run while the 30-day
service period runs (the day of discharge and the next 29 days): after it,
nothing is billable and the episode is due to end.

What uses them:

- the worklist (:func:`tcm_deadlines`, a :class:`alerts.worklist.DeadlineSource`):
  each clock not met is a deadline with its time left, pressing from its
  last day on (:mod:`alerts.priority` ranks that above all but critical
  alerts). A clock met, even late, disappears;
- :func:`run_tcm_checks`, every ``adherence_interval_s`` on the scheduler
  (:mod:`flows.schedule`): a deadline that passed unmet opens an alert of its
  own kind, ``tcm_contact_missed`` or ``tcm_visit_missed``, ``medium``,
  carrying which deadline, when it was due and the discharge. Opened alerts
  are pushed to the patient's coordinators like every new alert
  (:func:`alerts.lifecycle.notify_panel`; not critical, so with normal urgency
  and after their quiet hours): a patient just out of hospital whom nobody
  has reached is worth a push, and medium keeps it below the clinical alerts
  that a critical push is for. It opens once per deadline: a coordinator who
  resolves it by hand is not asked again (the worklist still shows the
  overdue deadline). It resolves itself, with a ``resolved_automatically``
  event saying why, once the milestone is recorded (a late contact still
  matters clinically), or the episode ends, or its service period does.
  The API settles a patient's alerts in the transaction that records a
  milestone or ends an episode (:func:`settle_tcm_alerts`), so they do not
  wait for the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from alerts.priority import Deadline
from alerts.service import record_detection, resolve_automatically
from billing import tcm
from billing.exceptions import BillingError
from billing.models import Complexity, Discharge, local_midnight
from billing.models import DischargeSetting as BillingSetting
from billing.rules import in_force
from hub.alerting import AlertKind, Detection, Severity
from hub.db import Conn
from hub.sql import queries
from programs.episodes import open_episodes
from programs.models import DischargeSetting, Episode, ProgramKind

log = logging.getLogger(__name__)

#: The billing engine's name of each discharge setting the programmes record.
SETTINGS: Mapping[DischargeSetting, BillingSetting] = {
    DischargeSetting.INPATIENT: BillingSetting.INPATIENT_ACUTE,
    DischargeSetting.OBSERVATION: BillingSetting.OBSERVATION,
    DischargeSetting.SKILLED_NURSING: BillingSetting.SKILLED_NURSING,
    DischargeSetting.PARTIAL_HOSPITALIZATION: BillingSetting.PARTIAL_HOSPITALIZATION,
}
CONTACT, VISIT = "TCM interactive contact", "TCM face-to-face visit"
#: The alert kind of each clock, opened when it passes unmet.
MISSED: Mapping[str, AlertKind] = {
    CONTACT: AlertKind.TCM_CONTACT_MISSED,
    VISIT: AlertKind.TCM_VISIT_MISSED,
}
TCM_KINDS = tuple(MISSED.values())


@dataclass(frozen=True, slots=True)
class Clock:
    """One deadline of an episode and where it stands.

    ``due`` is the patient's last day, ``due_at`` the instant it runs out;
    ``met`` when the milestone was recorded (a contact's instant, a visit's day)
    or None; ``code`` the TCM code a visit by then bills; ``within`` the rule
    ("2 business days", "7 days, high complexity (99496)") and ``fallback`` what
    is still possible after it.
    """

    name: str
    discharged_on: date
    due: date
    due_at: datetime
    code: str | None
    met: datetime | date | None
    within: str
    fallback: str
    #: The rule behind it, for an alert's ``source``.
    rule: str

    @property
    def note(self) -> str:
        """``2 business days; discharged Fri 16 Jan 2026``, and the fallback if any."""
        note = f"{self.within}; discharged {_day(self.discharged_on)}"
        return note + (f"; {self.fallback}" if self.fallback else "")

    def deadline(self) -> Deadline:
        return Deadline(self.name, self.due, self.due_at, self.note)

    @property
    def met_late(self) -> bool:
        if isinstance(self.met, datetime):
            return self.met >= self.due_at
        return self.met is not None and self.met > self.due


@dataclass(frozen=True, slots=True)
class EpisodeClocks:
    """An open TCM episode's clocks, and the last day of its service period."""

    episode: Episode
    discharge: Discharge
    period_ends: date
    clocks: tuple[Clock, ...]

    def running(self, today: date) -> bool:
        return today <= self.period_ends


def discharge_of(episode: Episode) -> Discharge:
    """The billing engine's view of a TCM episode's discharge (high complexity until known)."""
    assert episode.tcm is not None
    complexity = Complexity(episode.tcm.complexity or Complexity.HIGH)
    return Discharge(
        episode.tcm.discharged_on, SETTINGS[episode.tcm.setting], complexity, episode.timezone
    )


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def episode_clocks(episode: Episode) -> EpisodeClocks | None:
    """The episode's clocks; None for an episode that is not TCM, or no rules file covers."""
    if episode.tcm is None:
        return None
    discharge = discharge_of(episode)
    try:
        terms = in_force(discharge.discharged_on)
        if not tcm.qualifies(discharge, terms):
            return None
        contact = tcm.contact_clock(discharge, terms)
        visits = tcm.visit_clocks(discharge, terms)
    except BillingError as exc:
        log.warning("no TCM clocks", extra={"episode_id": episode.id, "error": str(exc)})
        return None
    t = episode.tcm
    days = terms.tcm.contact_business_days
    rule = f"rule:tcm_contact_{days}_business_days"
    clocks = [
        Clock(
            CONTACT,
            t.discharged_on,
            contact.due,
            contact.due_at,
            None,
            t.first_contact_at,
            f"{days} business days",
            "",
            rule,
        )
    ]
    visit = visits[0]
    within = (visit.due - t.discharged_on).days
    if t.complexity is None:
        rule_text = f"{within} days until the complexity is recorded"
    else:
        rule_text = f"{within} days, {t.complexity} complexity ({visit.code})"
    fallback = ""
    if len(visits) > 1:
        fallback = f"a visit by {_day(visits[-1].due)} still bills {visits[-1].code}"
    clocks.append(
        Clock(
            VISIT,
            t.discharged_on,
            visit.due,
            visit.due_at,
            visit.code,
            t.face_to_face_on,
            rule_text,
            fallback,
            f"rule:tcm_visit_{within}_days",
        )
    )
    period_ends = t.discharged_on + timedelta(days=terms.tcm.service_period_days - 1)
    return EpisodeClocks(episode, discharge, period_ends, tuple(clocks))


def _today(episode: Episode, now: datetime) -> date:
    return episode.local_date(now)


def tcm_deadlines(
    conn: Conn, *, patient_ids: Sequence[UUID] | None, now: datetime
) -> dict[UUID, tuple[Deadline, ...]]:
    """The worklist's deadlines: each open TCM episode's clocks not met, while its period runs.

    Of the patients ``patient_ids`` (None: every patient).
    """
    found: dict[UUID, tuple[Deadline, ...]] = {}
    for episode in open_episodes(conn, kinds=[ProgramKind.TCM], patient_ids=patient_ids):
        clocks = episode_clocks(episode)
        if clocks is None or not clocks.running(_today(episode, now)):
            continue
        open_ = tuple(c.deadline() for c in clocks.clocks if c.met is None)
        if open_:
            found[episode.patient_id] = tuple(sorted(open_, key=lambda d: d.due_at))
    return found


def _detection(clocks: EpisodeClocks, clock: Clock, now: datetime) -> Detection:
    episode, discharged = clocks.episode, clock.discharged_on
    what = "interactive contact" if clock.name == CONTACT else "face-to-face visit"
    reason = (
        f"No {what} recorded by {_day(clock.due)}: due within {clock.within} of the "
        f"discharge on {_day(discharged)}"
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
    today = _today(clocks.episode, now)
    out: list[tuple[AlertKind, Clock | None, str | None]] = []
    for clock in clocks.clocks:
        kind = MISSED[clock.name]
        if not clocks.running(today):
            ended = f"the 30-day transitional-care period ended on {clocks.period_ends}"
            out.append((kind, None, ended))
        elif clock.met is not None:
            out.append((kind, None, _met_sentence(clock)))
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
