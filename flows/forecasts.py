"""The daily billing forecast: low worklist notices for periods and months at risk.

Once a day (:class:`flows.schedule.AdherenceScheduler`), for every open RPM
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

At scale (``lastmile bench forecast``: 100,000 patients; docs/billing.md):
the days with sensed data are read for every patient in one query
(:mod:`flows.forecast_evidence`); the episodes and their time a batch of
:data:`BATCH_PATIENTS` patients at a time, whose notices are then written in
one statement; the notices no longer at risk are cleared in one more.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any
from uuid import UUID

from alerts.notices import (
    NoticeKey,
    NoticeKind,
    NoticeText,
    clear_notices,
    open_notices,
    post_notices,
)
from billing.exceptions import BillingError
from billing.forecast import (
    MonthForecast,
    PeriodForecast,
    month_forecast,
    period_forecast_of_days,
)
from billing.models import Month, TimeEntry
from flows.forecast_evidence import (
    OpenEpisode,
    SensedDays,
    open_episodes_of,
    time_entries,
)
from hub.care_programs import ProgramKind
from hub.db import Conn, Reader
from programs.episodes import with_open_episodes

log = logging.getLogger(__name__)

#: At risk when the days the target tier needs are at least this share of the days left.
AT_RISK_SHARE = Fraction(6, 10)
#: A month's time is judged in its last this many days (today included).
MONTH_END_DAYS = 7
TIME_NOTICES = {ProgramKind.RPM: NoticeKind.RPM_TIME, ProgramKind.CCM: NoticeKind.CCM_TIME}
KINDS = (ProgramKind.RPM, ProgramKind.CCM)
#: Patients judged per batch: their episodes and time are read, and their notices
#: written, together.
BATCH_PATIENTS = 5_000


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
    share = AT_RISK_SHARE  # needed / days left >= share, in integers (asked 100,000 times)
    return target.needed * share.denominator >= share.numerator * forecast.days_left


@functools.lru_cache(maxsize=512)
def days_left_in_month(today: date) -> int:
    """Days of ``today``'s month from today on, today included."""
    return (Month.of(today).last_day - today).days + 1


def time_at_risk(forecast: MonthForecast, today: date) -> bool:
    """Whether the month bills nothing yet with :data:`MONTH_END_DAYS` or fewer days left."""
    return not forecast.lines and days_left_in_month(today) <= MONTH_END_DAYS


def period_outlook(
    days: SensedDays, *, patient_id: UUID, started_on: date, today: date
) -> PeriodForecast:
    """An RPM episode's open period (begun on ``started_on``), as the rules engine sees it."""
    return period_forecast_of_days(started_on, days.of(patient_id), today=today)


def month_outlook(
    episode: OpenEpisode, entries: Mapping[int, list[TimeEntry]], today: date
) -> MonthForecast:
    """The RPM or CCM episode's month holding ``today``."""
    return month_forecast(
        entries.get(episode.id, ()),
        program=episode.kind,
        today=today,
        time_zone=episode.timezone,
    )


def _month_judged(episode: OpenEpisode, today: date) -> bool:
    """Whether the episode's month of time is judged today (see the module)."""
    return episode.consented and days_left_in_month(today) <= MONTH_END_DAYS


@dataclass(frozen=True, slots=True)
class PassResult:
    """The notices a pass opened, brought up to date and cleared; and (a figure, not
    compared) the episodes it judged."""

    opened: int
    updated: int
    cleared: int
    judged: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class _Period:
    """An RPM episode whose period is judged once the days are read."""

    episode_id: int
    patient_id: UUID
    started_on: date
    today: date


@dataclass(slots=True)
class _Judged:
    """What the pass found: the notices wanted now (the batch's, with their text; all
    keys), the current period of each episode with an open notice, the RPM periods
    still to judge, and the episodes whose forecast failed."""

    watched: set[tuple[int, NoticeKind]]
    batch: list[NoticeText] = field(default_factory=list)
    wanted: set[NoticeKey] = field(default_factory=set)
    current: dict[tuple[int, NoticeKind], tuple[date, str]] = field(default_factory=dict)
    periods: list[_Period] = field(default_factory=list)
    failed: set[int] = field(default_factory=set)
    count: int = 0

    def found(self, key: NoticeKey, text: str) -> None:
        """The episode's period or month of the key's kind, and its outlook ``text``."""
        if (key.episode_id, key.kind) in self.watched:
            self.current[(key.episode_id, key.kind)] = (key.period_start, text)

    def want(self, key: NoticeKey, text: str, detail: dict[str, Any]) -> None:
        self.batch.append(NoticeText(key, text, detail))
        self.wanted.add(key)

    def judge(self, episode_id: int, judge: Callable[..., None], *args: Any) -> None:
        """``judge(*args, self)``, the episode's forecast; a failure is logged and kept."""
        try:
            judge(*args, self)
        except BillingError as exc:  # no rules file for the day, a forked correction
            self.failed.add(episode_id)
            log.warning("no forecast", extra={"episode_id": episode_id, "error": str(exc)})


def _judge_month(
    episode: OpenEpisode, entries: Mapping[int, list[TimeEntry]], today: date, judged: _Judged
) -> None:
    kind = TIME_NOTICES[episode.kind]
    key = NoticeKey(episode.patient_id, kind, episode.id, Month.of(today).first_day)
    if not _month_judged(episode, today):
        judged.found(key, "")
        return  # no time is logged without consent; a month is judged in its last days
    month = month_outlook(episode, entries, today)
    judged.found(key, month.text)
    if time_at_risk(month, today):
        left = days_left_in_month(today)
        text = f"{episode.kind} time: {month.text}; {left} {'day' if left == 1 else 'days'} left"
        detail = {"minutes": month.minutes, "interactive_missing": month.interactive_missing}
        judged.want(key, text, {**detail, "next_code": month.next_code})


def _judge_period(rpm: _Period, days: SensedDays, judged: _Judged) -> None:
    period = period_outlook(
        days, patient_id=rpm.patient_id, started_on=rpm.started_on, today=rpm.today
    )
    key = NoticeKey(rpm.patient_id, NoticeKind.DEVICE_DAYS, rpm.episode_id, period.period.first_day)
    judged.found(key, period.text)
    if device_days_at_risk(period):
        detail = {
            "days": period.period.count,
            "days_left": period.days_left,
            "period_last_day": str(period.period.last_day),
            "needed": {t.code: t.needed for t in period.tiers},
        }
        judged.want(key, f"Device days: {period.text}", detail)


def _batches(
    conn: Conn, patient_ids: Collection[UUID] | None, size: int
) -> Iterator[list[OpenEpisode]]:
    """The open RPM and CCM episodes, ``size`` patients' at a time."""
    patients = with_open_episodes(conn, kinds=KINDS, patient_ids=patient_ids)
    for at in range(0, len(patients), size):
        yield open_episodes_of(conn, patient_ids=patients[at : at + size])


def _judge_months(conn: Conn, episodes: list[OpenEpisode], now: datetime, judged: _Judged) -> None:
    """Judge the batch's months of time (reading their entries if one is judged); keep
    its RPM periods for later. Episodes not begun by their today are not judged."""
    started = [(e, e.local_date(now)) for e in episodes]
    started = [(e, today) for e, today in started if today >= e.started_on]
    entries: Mapping[int, list[TimeEntry]] = {}
    if any(_month_judged(e, today) for e, today in started):
        patients = {e.patient_id for e in episodes}
        entries = time_entries(conn, episodes=episodes, now=now, patient_ids=patients)
    for episode, today in started:
        judged.count += 1
        if episode.kind is ProgramKind.RPM:
            rpm = _Period(episode.id, episode.patient_id, episode.started_on, today)
            judged.periods.append(rpm)
        judged.judge(episode.id, _judge_month, episode, entries, today)


def _post(conn: Conn, judged: _Judged, now: datetime) -> int:
    """Write the batch's notices; how many opened."""
    opened = post_notices(conn, notices=judged.batch, now=now)
    judged.batch.clear()
    return opened


def _read_days(
    conn: Conn, reader: Reader | None, now: datetime, patient_ids: Collection[UUID] | None
) -> SensedDays:
    if reader is None:
        return SensedDays.read(conn, now=now, patient_ids=patient_ids)
    with reader() as other:
        return SensedDays.read(other, now=now, patient_ids=patient_ids)


def run_forecast_pass(
    conn: Conn,
    *,
    now: datetime,
    patient_ids: Collection[UUID] | None = None,
    batch: int = BATCH_PATIENTS,
    reader: Reader | None = None,
) -> PassResult:
    """One pass over the open RPM and CCM episodes (or ``patient_ids``'), ``batch``
    patients at a time, in two rounds: the months of time, then the RPM periods once
    the days with data are read (on ``reader``'s connection while the first round runs,
    if given)."""
    mine = None if patient_ids is None else set(patient_ids)
    watched = [
        n
        for n in open_notices(conn, kinds=list(NoticeKind))
        if mine is None or n.key.patient_id in mine
    ]
    judged = _Judged({(n.key.episode_id, n.key.kind) for n in watched})
    opened = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(_read_days, conn, reader, now, patient_ids) if reader else None
        for episodes in _batches(conn, patient_ids, batch):
            _judge_months(conn, episodes, now, judged)
            opened += _post(conn, judged, now)
        days = reading.result() if reading else _read_days(conn, None, now, patient_ids)
    for at in range(0, len(judged.periods), batch):
        for rpm in judged.periods[at : at + batch]:
            judged.judge(rpm.episode_id, _judge_period, rpm, days)
        opened += _post(conn, judged, now)
    reasons = {
        n.id: _cleared_because(n.key, judged.current.get((n.key.episode_id, n.key.kind)))
        for n in watched
        if n.key not in judged.wanted and n.key.episode_id not in judged.failed
    }
    cleared = clear_notices(conn, reasons=reasons, now=now)
    return PassResult(opened, len(judged.wanted) - opened, cleared, judged=judged.count)


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
    episodes = open_episodes_of(conn, patient_ids=[patient_id])
    days = SensedDays.read(conn, now=now, patient_ids=[patient_id])
    entries = time_entries(conn, episodes=episodes, now=now, patient_ids=[patient_id])
    found: dict[int, tuple[PeriodForecast | None, MonthForecast | None]] = {}
    for episode in episodes:
        today = episode.local_date(now)
        if today < episode.started_on:
            continue
        period = None
        try:
            if episode.kind is ProgramKind.RPM:
                period = period_outlook(
                    days, patient_id=patient_id, started_on=episode.started_on, today=today
                )
            found[episode.id] = (period, month_outlook(episode, entries, today))
        except BillingError as exc:
            log.warning("no forecast", extra={"episode_id": episode.id, "error": str(exc)})
    return found
