"""The daily billing forecast: low worklist notices for periods and months at risk.

Once a day (:class:`flows.scheduler.AdherenceScheduler`), for every open RPM
and CCM episode, the rules engine's forecast (:mod:`billing.forecast`) is
asked what the patient's open 30-day period and month still need, and two
rules turn that into a notice on the worklist (:mod:`alerts.notices`):

- **Device days** (each open RPM episode, the 30-day period holding the
  patient's today): the *target* is the tier the forecast aims at, the
  highest device-supply tier not reached and still reachable (16 days for
  99454; once that is out of reach, 2 days for 99445). The period is at
  risk when the days the target needs are at least 60 % of the days left
  (today counts as left until it has data): reachable only if the patient
  measures on most remaining days. "needs 6 more days in 8" (75 %) and
  "needs 16 more days in 26" (62 %) are at risk; "needs 16 more days in 30"
  (53 %) and "needs 5 more days in 10" (50 %) are not; nor is a period whose
  target is reached or out of reach (there is nothing left to ask the
  patient for).
- **Time** (each open RPM and CCM episode with the patient's consent, since
  time cannot be logged without it; the patient's current month): at risk
  when 7 or fewer days of the month are left (today included) and the month
  bills nothing yet, for too few minutes or no interactive communication.

A notice is low, never an alert, and never pushed (:mod:`alerts.notices` says
why). It clears itself at the next pass once its rule no longer holds, its
period or month is over, or its episode ended; the reason is kept. A pass
is idempotent: run twice a day, it changes nothing the second time but the
figures.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

from alerts.notices import NoticeKey, NoticeKind, clear_notice, open_notices, post_notice
from billing.exceptions import BillingError
from billing.forecast import MonthForecast, PeriodForecast, month_forecast, period_forecast
from billing.models import DeviceReading, Month, Provenance, RpmEpisode, TimeEntry
from hub.care_programs import ProgramKind
from hub.db import Conn
from hub.sql import queries
from programs.episodes import open_episodes
from programs.models import Episode

log = logging.getLogger(__name__)

#: At risk when the days the target tier needs are at least this share of the days left.
AT_RISK_SHARE = Fraction(6, 10)
#: A month's time is judged in its last this many days (today included).
MONTH_END_DAYS = 7
#: How far back readings and time entries are read: a period or a month, and a day of
#: time zones.
LOOKBACK = timedelta(days=32)
TIME_NOTICES = {ProgramKind.RPM: NoticeKind.RPM_TIME, ProgramKind.CCM: NoticeKind.CCM_TIME}


def device_days_at_risk(forecast: PeriodForecast) -> bool:
    """Whether the period's target is reachable only on most of the days left.

    >>> from billing.device_days import DevicePeriod
    >>> from billing.forecast import TierOutlook
    >>> period = DevicePeriod(0, date(2026, 3, 1), date(2026, 3, 30), (), None, False, "x")
    >>> def outlook(needed, left):
    ...     tiers = (TierOutlook("99454", 16, needed, needed <= left),
    ...              TierOutlook("99445", 2, 0, True))
    ...     return PeriodForecast(period, date(2026, 3, 1), left, tiers, "")
    >>> [device_days_at_risk(outlook(n, left)) for n, left in ((6, 8), (6, 10), (9, 8))]
    [True, True, False]
    >>> device_days_at_risk(outlook(5, 10))  # 50 %: half the days, not most
    False
    """
    target = next((t for t in forecast.tiers if t.reachable and not t.reached), None)
    if target is None or forecast.days_left <= 0:
        return False
    return Fraction(target.needed, forecast.days_left) >= AT_RISK_SHARE


def days_left_in_month(today: date) -> int:
    """Days of ``today``'s month from today on, today included."""
    return (Month.of(today).last_day - today).days + 1


def time_at_risk(forecast: MonthForecast, today: date) -> bool:
    """Whether the month bills nothing yet with :data:`MONTH_END_DAYS` or fewer days left."""
    return not forecast.lines and days_left_in_month(today) <= MONTH_END_DAYS


@dataclass(slots=True)
class Evidence:
    """What the forecast counts, read for many patients at once."""

    readings: dict[UUID, list[DeviceReading]] = field(default_factory=lambda: defaultdict(list))
    serials: dict[UUID, frozenset[str]] = field(default_factory=dict)
    entries: dict[int, list[TimeEntry]] = field(default_factory=lambda: defaultdict(list))


def load_evidence(
    conn: Conn,
    *,
    episodes: Iterable[Episode],
    now: datetime,
    patient_ids: Collection[UUID] | None,
    time: bool = True,
) -> Evidence:
    """The readings of the RPM episodes' patients and the entries of the episodes, lately."""
    params = {
        "since": now - LOOKBACK,
        "all": patient_ids is None,
        "patient_ids": list(patient_ids or ()),
    }
    evidence = Evidence()
    for patient_id, serial, modality, measured_at in conn.execute(
        queries["rpm_reading_days"], params
    ):
        reading = DeviceReading(measured_at, serial, Provenance(modality))
        evidence.readings[patient_id].append(reading)
    for patient_id, serials in conn.execute(queries["rpm_device_serials"], params):
        evidence.serials[patient_id] = frozenset(serials)
    if time:
        kinds = {e.id: e.kind for e in episodes}
        rows = conn.execute(queries["open_episode_time_entries"], params)
        for entry_id, episode_id, author, started_at, seconds, interactive in rows:
            if episode_id not in kinds:
                continue
            evidence.entries[episode_id].append(
                TimeEntry(
                    str(entry_id),
                    kinds[episode_id],
                    str(author),
                    started_at,
                    interactive,
                    minutes=seconds // 60,
                )
            )
    return evidence


def period_outlook(episode: Episode, evidence: Evidence, today: date) -> PeriodForecast:
    """The RPM episode's open period, as the rules engine sees it."""
    rpm = RpmEpisode(
        episode.started_on, episode.timezone, evidence.serials.get(episode.patient_id, frozenset())
    )
    return period_forecast(rpm, evidence.readings.get(episode.patient_id, ()), today=today)


def month_outlook(episode: Episode, evidence: Evidence, today: date) -> MonthForecast:
    """The RPM or CCM episode's month holding ``today``."""
    return month_forecast(
        evidence.entries.get(episode.id, ()),
        program=episode.kind,
        today=today,
        time_zone=episode.timezone,
    )


@dataclass(frozen=True, slots=True)
class PassResult:
    opened: int
    updated: int
    cleared: int


@dataclass(slots=True)
class _Judged:
    """What the pass found: the notices wanted now, and each episode's current period."""

    wanted: dict[NoticeKey, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    current: dict[tuple[int, NoticeKind], tuple[date, str]] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)


def _judge(episode: Episode, evidence: Evidence, today: date, judged: _Judged) -> None:
    if episode.kind is ProgramKind.RPM:
        period = period_outlook(episode, evidence, today)
        key = NoticeKey(
            episode.patient_id, NoticeKind.DEVICE_DAYS, episode.id, period.period.first_day
        )
        judged.current[(episode.id, key.kind)] = (key.period_start, period.text)
        if device_days_at_risk(period):
            detail = {
                "days": period.period.count,
                "days_left": period.days_left,
                "period_last_day": str(period.period.last_day),
                "needed": {t.code: t.needed for t in period.tiers},
            }
            judged.wanted[key] = (f"Device days: {period.text}", detail)
    kind = TIME_NOTICES[episode.kind]
    key = NoticeKey(episode.patient_id, kind, episode.id, Month.of(today).first_day)
    judged.current[(episode.id, kind)] = (key.period_start, "")
    if episode.consent is None or days_left_in_month(today) > MONTH_END_DAYS:
        return  # no time is logged without consent; a month is judged in its last days
    month = month_outlook(episode, evidence, today)
    judged.current[(episode.id, kind)] = (key.period_start, month.text)
    if time_at_risk(month, today):
        left = days_left_in_month(today)
        text = f"{episode.kind} time: {month.text}; {left} {'day' if left == 1 else 'days'} left"
        detail = {"minutes": month.minutes, "interactive_missing": month.interactive_missing}
        judged.wanted[key] = (text, {**detail, "next_code": month.next_code})


def run_forecast_pass(
    conn: Conn, *, now: datetime, patient_ids: Collection[UUID] | None = None
) -> PassResult:
    """One pass over the open RPM and CCM episodes (or ``patient_ids``')."""
    episodes = open_episodes(
        conn, kinds=[ProgramKind.RPM, ProgramKind.CCM], patient_ids=patient_ids
    )
    evidence = load_evidence(conn, episodes=episodes, now=now, patient_ids=patient_ids)
    judged = _Judged()
    for episode in episodes:
        today = episode.local_date(now)
        if today < episode.started_on:
            continue
        try:
            _judge(episode, evidence, today, judged)
        except BillingError as exc:  # no rules file for the day, a forked correction
            judged.failed.add(episode.id)
            log.warning("no forecast", extra={"episode_id": episode.id, "error": str(exc)})
    opened = updated = 0
    for key, (text, detail) in judged.wanted.items():
        if post_notice(conn, key=key, text=text, detail=detail, now=now):
            opened += 1
        else:
            updated += 1
    cleared = 0
    mine = None if patient_ids is None else set(patient_ids)
    for notice in open_notices(conn, kinds=list(NoticeKind)):
        key = notice.key
        if key in judged.wanted or key.episode_id in judged.failed:
            continue
        if mine is not None and key.patient_id not in mine:
            continue
        reason = _cleared_because(key, judged.current.get((key.episode_id, key.kind)))
        cleared += clear_notice(conn, notice_id=notice.id, reason=reason, now=now)
    return PassResult(opened, updated, cleared)


def _cleared_because(key: NoticeKey, current: tuple[date, str] | None) -> str:
    span = "period" if key.kind is NoticeKind.DEVICE_DAYS else "month"
    if current is None:
        return "the programme episode ended"
    start, text = current
    if start != key.period_start:
        return f"the {span} ended"
    return f"no longer at risk: {text}"


def forecasts_of(
    conn: Conn, *, patient_id: UUID, now: datetime
) -> Mapping[int, tuple[PeriodForecast | None, MonthForecast | None]]:
    """Each open RPM and CCM episode's forecast now (the patient page's progress)."""
    episodes = open_episodes(
        conn, kinds=[ProgramKind.RPM, ProgramKind.CCM], patient_ids=[patient_id]
    )
    evidence = load_evidence(conn, episodes=episodes, now=now, patient_ids=[patient_id])
    found: dict[int, tuple[PeriodForecast | None, MonthForecast | None]] = {}
    for episode in episodes:
        today = episode.local_date(now)
        if today < episode.started_on:
            continue
        rpm = episode.kind is ProgramKind.RPM
        try:
            period = period_outlook(episode, evidence, today) if rpm else None
            found[episode.id] = (period, month_outlook(episode, evidence, today))
        except BillingError as exc:
            log.warning("no forecast", extra={"episode_id": episode.id, "error": str(exc)})
    return found
