"""What the coordinator will see of a simulated cohort's month, by the billing rules themselves.

The open 30-day RPM period of each patient, counted from the days the
cohort's readings were measured on (:meth:`Cohort.measured_days`, when the
plan picks the period's first day), and the month's RPM time, counted from
the planned entries, go through ``billing``'s forecast: so "billable",
"reachable" and "lost" here are what the rules say, not what the plan
meant. A patient with a consented RPM episode is

- billable: 16 or more days with data (99454) and 20 or more minutes with a
  live call this month (99457);
- lost: 16 days can no longer be reached in the days the period has left;
- reachable: otherwise (days, minutes or the live call still to come).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from billing.forecast import MonthForecast, PeriodForecast, month_forecast, period_forecast
from billing.models import DeviceReading, RpmEpisode, TimeEntry
from billing.rules import working_rules
from hub.care_programs import ProgramKind
from simulators.care_models import CarePlan, DeviceOutlook, PatientCare, PlannedEntry, TcmStory

#: The simulated patients' time zone (they are enrolled without one).
TIME_ZONE = "UTC"
_SERIAL = "sim-device"
#: The device-supply code of 16 days or more.
DAYS_CODE = "99454"
#: The time code of 20 minutes or more.
MINUTES_CODE = "99457"


def device_forecast(measured: Iterable[date], *, start: date, today: date) -> PeriodForecast:
    """The forecast of the RPM period holding ``today``, from the days with data."""
    readings = [
        DeviceReading(datetime.combine(day, time(12), tzinfo=UTC), _SERIAL)
        for day in measured
        if start <= day <= today
    ]
    episode = RpmEpisode(start, TIME_ZONE, frozenset({_SERIAL}))
    return period_forecast(episode, readings, today=today, rules=working_rules(today))


def device_outlook(forecast: PeriodForecast) -> DeviceOutlook:
    tier = forecast.tier(DAYS_CODE)
    if tier.reached:
        return DeviceOutlook.REACHED
    return DeviceOutlook.REACHABLE if tier.reachable else DeviceOutlook.LOST


def time_forecast(
    entries: Iterable[PlannedEntry], *, kind: ProgramKind, today: date
) -> MonthForecast:
    """The forecast of ``kind``'s month holding ``today``, from the planned entries."""
    counted = [
        TimeEntry(
            entry_id=str(i),
            program=kind,
            author=str(e.nurse),
            started_at=e.started_at,
            interactive=e.work.interactive,
            minutes=e.minutes,
        )
        for i, e in enumerate(entries)
        if e.kind is kind
    ]
    return month_forecast(
        counted, program=kind, today=today, time_zone=TIME_ZONE, rules=working_rules(today)
    )


@dataclass(frozen=True, slots=True)
class Outlook:
    """The month at the plan's ``now``: RPM patients by standing, and the other programmes."""

    billable: int
    reachable: int
    lost: int
    awaiting_consent: int
    without_rpm: int
    ccm: int
    ccm_at_20: int
    tcm: Counter[TcmStory]

    def summary(self) -> str:
        """A line or two for ``lastmile simulate``'s output."""
        tcm = ", ".join(f"{n} {story.value.replace('_', ' ')}" for story, n in self.tcm.items())
        ccm = f"{self.ccm_at_20} of {self.ccm} at 20+ min" if self.ccm else "none"
        return (
            f"this month's RPM: {self.billable} billable (16+ days with data, 20+ min with a"
            f" live call), {self.reachable} reachable, {self.lost} lost (16 days out of reach);"
            f" {self.awaiting_consent} awaiting consent, {self.without_rpm} without an RPM order;"
            f" CCM: {ccm}; TCM: {tcm or 'none'}"
        )


def rpm_standing(care: PatientCare, *, today: date) -> str | None:
    """``billable``, ``reachable`` or ``lost`` for a patient with a consented RPM episode."""
    device = care.device
    if device is None:
        return None
    if device is DeviceOutlook.LOST:
        return "lost"
    minutes = time_forecast(care.entries, kind=ProgramKind.RPM, today=today)
    billed = any(line.code == MINUTES_CODE for line in minutes.lines)
    return "billable" if device is DeviceOutlook.REACHED and billed else "reachable"


def outlook(plan: CarePlan) -> Outlook:
    """Count the plan's patients by what the rules make of their month."""
    today = plan.now.date()
    standing: Counter[str] = Counter()
    awaiting = without = ccm = ccm_at_20 = 0
    for care in plan.patients:
        rpm = care.episode(ProgramKind.RPM)
        if rpm is None:
            without += 1
        elif rpm.consent_on is None:
            awaiting += 1
        else:
            standing[rpm_standing(care, today=today) or ""] += 1
        if care.episode(ProgramKind.CCM) is not None:
            ccm += 1
            month = time_forecast(care.entries, kind=ProgramKind.CCM, today=today)
            ccm_at_20 += month.minutes >= 20
    stories = Counter(c.tcm for c in plan.patients if c.tcm is not None)
    return Outlook(
        billable=standing["billable"],
        reachable=standing["reachable"],
        lost=standing["lost"],
        awaiting_consent=awaiting,
        without_rpm=without,
        ccm=ccm,
        ccm_at_20=ccm_at_20,
        tcm=Counter({story: stories[story] for story in TcmStory if stories[story]}),
    )
