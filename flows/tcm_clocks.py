"""Transitional-care clocks over the stored programmes: the deadlines after a discharge.

An open TCM episode (:mod:`programs`) runs two clocks from its discharge,
computed by the rules engine (:mod:`billing.tcm`):

- the **interactive contact**, due by the end of the 2nd business day after
  the day of discharge (US federal holidays as observed do not count); met
  when the episode's ``first_contact_at`` is recorded. Two unsuccessful
  attempts recorded in time (the rules' ``unsuccessful_attempts``, after
  CMS's TCM FAQ) stand in for it: the clock is *attempted* ("attempted
  twice"), neither pressing nor overdue, and opens no alert; it stays on the
  worklist, quietly, until the patient is reached or the period ends;
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

The worklist reads them (:func:`tcm_deadlines`, a
:class:`alerts.worklist.DeadlineSource`): each clock not met is a deadline
with its time left, pressing from its last day on (:mod:`alerts.priority`
ranks that above all but critical alerts). A clock met, even late,
disappears. A deadline that passed unmet opens an alert
(:mod:`flows.tcm_alerts`); the patient page shows the clocks
(:mod:`flows.care_progress`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from alerts.priority import Deadline
from billing import tcm
from billing.exceptions import BillingError
from billing.models import ContactAttempt, Discharge
from billing.rules import in_force
from hub.care_programs import Complexity, ProgramKind
from hub.db import Conn
from programs.episodes import open_episodes
from programs.models import Episode

log = logging.getLogger(__name__)

CONTACT, VISIT = "TCM interactive contact", "TCM face-to-face visit"


@dataclass(frozen=True, slots=True)
class Clock:
    """One deadline of an episode and where it stands.

    ``due`` is the patient's last day, ``due_at`` the instant it runs out;
    ``met`` when the milestone was recorded (a contact's instant, a visit's day)
    or None; ``code`` the TCM code a visit by then bills; ``within`` the rule
    ("2 business days", "7 days, high complexity (99496)") and ``fallback`` what
    is still possible after it. For the contact, ``attempts`` are the instants of
    the unsuccessful attempts made in time, and ``attempts_needed`` how many stand
    in for the contact.
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
    attempts: tuple[datetime, ...] = ()
    attempts_needed: int = 0

    @property
    def attempted(self) -> bool:
        """Not met, but tried in time as often as the rules accept instead."""
        return self.met is None and 0 < self.attempts_needed <= len(self.attempts)

    @property
    def tried(self) -> str:
        """``attempted twice`` (``once``, ``3 times``), or empty without an attempt in time."""
        return f"attempted {times_text(len(self.attempts))}" if self.attempts else ""

    @property
    def note(self) -> str:
        """``2 business days; discharged Fri 16 Jan 2026``, and the fallback if any, and
        the attempts in time while they are too few."""
        note = f"{self.within}; discharged {day_text(self.discharged_on)}"
        note += f"; {self.fallback}" if self.fallback else ""
        return note + (f"; {self.tried}" if self.tried and not self.attempted else "")

    def deadline(self) -> Deadline:
        satisfied = self.tried if self.attempted else ""
        return Deadline(self.name, self.due, self.due_at, self.note, satisfied)

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
    complexity = episode.tcm.complexity or Complexity.HIGH
    return Discharge(episode.tcm.discharged_on, episode.tcm.setting, complexity, episode.timezone)


def day_text(day: date) -> str:
    """``Fri 16 Jan 2026``."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def times_text(count: int) -> str:
    """``once``, ``twice``, ``3 times``.

    >>> [times_text(n) for n in (1, 2, 3)]
    ['once', 'twice', '3 times']
    """
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


@dataclass(frozen=True, slots=True)
class _Rules:
    """What the rules engine says of one discharge (the same for every episode that shares it)."""

    contact: tcm.TcmClock
    visits: tuple[tcm.TcmClock, ...]
    contact_business_days: int
    service_period_days: int
    unsuccessful_attempts: int


@functools.lru_cache(maxsize=4096)
def _rules_of(discharge: Discharge) -> _Rules | None:
    """The clocks of a discharge; None if it cannot start transitional care."""
    terms = in_force(discharge.discharged_on)
    if not tcm.qualifies(discharge, terms):
        return None
    return _Rules(
        tcm.contact_clock(discharge, terms),
        tcm.visit_clocks(discharge, terms),
        terms.tcm.contact_business_days,
        terms.tcm.service_period_days,
        terms.tcm.unsuccessful_attempts,
    )


def episode_clocks(episode: Episode) -> EpisodeClocks | None:
    """The episode's clocks; None for an episode that is not TCM, or no rules file covers."""
    if episode.tcm is None:
        return None
    discharge = discharge_of(episode)
    try:
        rules = _rules_of(discharge)
    except BillingError as exc:
        log.warning("no TCM clocks", extra={"episode_id": episode.id, "error": str(exc)})
        return None
    if rules is None:
        return None
    contact, visits = rules.contact, rules.visits
    t = episode.tcm
    days = rules.contact_business_days
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
            _timely_attempts(episode, discharge),
            rules.unsuccessful_attempts,
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
        fallback = f"a visit by {day_text(visits[-1].due)} still bills {visits[-1].code}"
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
    period_ends = t.discharged_on + timedelta(days=rules.service_period_days - 1)
    return EpisodeClocks(episode, discharge, period_ends, tuple(clocks))


def _timely_attempts(episode: Episode, discharge: Discharge) -> tuple[datetime, ...]:
    """The instants of the episode's unsuccessful contact attempts made in time."""
    tried = [
        ContactAttempt(r.statement.at, reached=False)
        for r in episode.contact_attempts
        if r.statement.at is not None
    ]
    return tuple(a.at for a in tcm.timely(discharge, tried))


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
