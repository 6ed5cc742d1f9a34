"""The worklist's priority: which patient a coordinator should look at first, and why.

A patient's priority is a number of points, higher first::

    priority = 1000 * band + lead + alert + risk + adherence + early + notices

**Alerts.** Every unresolved alert is *open* for the worklist; an acknowledged one counts
one severity level lower (someone is on it), and one snoozed until later (when the alerts
table has ``snoozed_until``) does not count until then. Alerts are split by kind: the
non-adherence kinds (missed readings, a device never active, fewer readings, the gateway
offline; refill overdue; low PDC) make the ``adherence`` term, every other kind is
clinical. The patient's *lead* alert is the open clinical alert of the highest level
(critical 4, high 3, medium 2, low 1), the oldest one among equals.

**Deadlines.** A dated step of the patient's care that is not recorded yet (a
transitional-care clock: the interactive contact, the face-to-face visit) is a
:class:`Deadline`; it is *pressing* from its last day (the patient's calendar) on:
due today or overdue.

* ``band``: 3 when the lead alert is at the critical level; else 2 when a deadline is
  pressing; else 1 when the lead alert is at the high level; else 0. A band is worth
  more than everything else together (at most 990 points), so a critical alert comes
  before anything, a pressing deadline before any high alert, and a high alert before
  any patient without one of these.
* ``lead``: what set the band (the lead alert, or the most overdue pressing deadline)
  scores its age, 5 points an hour, at most 48 hours (240); a deadline's age runs from
  the start of its last day.
* ``alert``: in band 0 and 2, 150 for a medium lead alert or 50 for a low one (in band
  0 the lead alert's age is the ``lead`` term; under a deadline it does not count).
* ``risk``: 100 * the discharge risk (0..1), plus 100 when the patient is high-risk (the
  top 15 % of all enrolled patients by discharge risk): 0..200.
* ``adherence``: refill overdue 80, or 160 when the overdue class bears on an open
  deterioration alert (the refill alert is then ``high`` and its reason carries the other
  alert's: no loop diuretic while weight climbs); missed readings 60, low PDC 40; half
  while the alert is acknowledged: 0..260.
* ``early``: in the pathway's post-discharge window (30 days), 120 on the day of
  discharge, falling linearly to 0 at its end.
* ``notices``: 20 when the patient has a :class:`Notice` (a low worklist item that is not
  an alert: a billing forecast, "needs 6 more days in 8"), whatever their number.

So within a band an older alert beats a newer one of the same level unless the other
terms differ by more (an hour of age is worth 0.05 of discharge risk, or half an early
day). Ties go to the older lead, then to the patient id, so the order is stable.

Each term that scores says so in a short sentence; a row's ``reasons`` are those
sentences, heaviest first, then what did not score but a coordinator should see (a
deadline not yet due, with the time left).

>>> from datetime import UTC, date, datetime, timedelta
>>> now = datetime(2026, 11, 20, 12, tzinfo=UTC)
>>> spo2 = OpenAlert("spo2_low", "critical", "open", "SpO2 86% (limit 88%).",
...     now - timedelta(hours=3))
>>> one = PatientFacts(UUID(int=1), "COPD", date(2026, 11, 16), 0.3, 5, 4, False, (spo2,))
>>> two = PatientFacts(UUID(int=2), "CHF", None, 0.9, 17, 12, True, ())
>>> [s.patient_id.int for s in rank([two, one], now=now)]
[1, 2]
>>> score(one, now=now).reasons
('Critical alert open 3 h: SpO2 86% (limit 88%).', 'Day 4 after discharge', \
'Discharge risk 0.30 (LACE 5, HOSPITAL 4)')
>>> from dataclasses import replace
>>> contact = Deadline("TCM interactive contact", date(2026, 11, 19),
...     datetime(2026, 11, 20, 6, tzinfo=UTC), "discharged Tue 17 Nov")
>>> score(replace(two, deadlines=(contact,)), now=now).reasons[0]
'TCM interactive contact overdue 6 h, was due Thu 19 Nov (discharged Tue 17 Nov)'
>>> score(two, now=now).reasons
('High discharge risk (LACE 17, HOSPITAL 12)',)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from alerts.worklist_facts import (
    SEVERITIES,
    Deadline,
    Notice,
    OpenAlert,
    PatientFacts,
    age_text,
)
from hub.alerting import AlertKind
from hub.pathways import get_pathway

__all__ = [
    "BAND",
    "Deadline",
    "Notice",
    "OpenAlert",
    "PatientFacts",
    "Scored",
    "days_since_discharge",
    "rank",
    "score",
    "severity_counts",
]

BAND = 1000.0
#: The bands: a critical alert, a pressing deadline, a high alert (else 0).
CRITICAL_BAND, DEADLINE_BAND, HIGH_BAND = 3, 2, 1
#: The band of a lead alert by its level.
ALERT_BANDS = {4: CRITICAL_BAND, 3: HIGH_BAND}
AGE_PER_HOUR, AGE_CAP_HOURS = 5.0, 48.0
LOW_BAND_LEVEL_POINTS = {2: 150.0, 1: 50.0}
NOTICE_POINTS = 20.0
RISK_POINTS, HIGH_RISK_POINTS = 100.0, 100.0
EARLY_POINTS = 120.0
#: Points of each non-adherence flag (halved while its alert is acknowledged).
ADHERENCE_POINTS = {"refill_overdue": 80.0, "missed_readings": 60.0, "low_pdc": 40.0}
#: A refill overdue beside an open deterioration alert it bears on counts this many times.
LINKED_REFILL_FACTOR = 2.0
#: Which flag each non-adherence alert kind raises.
ADHERENCE_FLAG: dict[str, str] = {
    AlertKind.MISSED_READINGS: "missed_readings",
    AlertKind.DEVICE_NEVER_ACTIVE: "missed_readings",
    AlertKind.FREQUENCY_DROP: "missed_readings",
    AlertKind.GATEWAY_OFFLINE: "missed_readings",
    AlertKind.DEVICE_PROBLEM: "missed_readings",
    AlertKind.READING_GAP: "missed_readings",
    AlertKind.REFILL_OVERDUE: "refill_overdue",
    AlertKind.LOW_PDC: "low_pdc",
}
REASON_CHARS = 90


@dataclass(frozen=True, slots=True)
class Scored:
    """A patient's priority, the terms it is made of, and the reasons in words."""

    patient_id: UUID
    priority: float
    band: int
    lead_age_hours: float
    days_since_discharge: int | None
    flags: dict[str, bool]
    reasons: tuple[str, ...]


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1].rstrip() + "…"


def _label(reason: str) -> str:
    """The drug class a refill or PDC reason starts with ("Loop diuretics: ...")."""
    return reason.split(": ", 1)[0] if ": " in reason else _short(reason)


_PDC = re.compile(r"PDC (\d+%)")


def _linked(flag: str, alert: OpenAlert) -> bool:
    """A refill alert raised to high: its class bears on an open deterioration alert."""
    return flag == "refill_overdue" and alert.severity in ("high", "critical")


def _adherence_sentence(flag: str, alert: OpenAlert, more: int) -> str:
    if _linked(flag, alert):
        with_alert = alert.reason.split(" With the open ", 1)
        text = f"Refill overdue: {_label(alert.reason)}"
        if len(with_alert) == 2:
            text += f", with the open {_short(with_alert[1])}"
    elif flag == "refill_overdue":
        text = f"Refill overdue: {_label(alert.reason)}"
    elif flag == "low_pdc":
        pdc = _PDC.search(alert.reason)
        text = f"Low PDC: {_label(alert.reason)}" + (f" ({pdc.group(1)})" if pdc else "")
    else:
        text = f"Missed readings: {_short(alert.reason.split('; ')[0].rstrip('.'))}"
    if more:
        text += f" (+{more} more)"
    return text + (" (acknowledged)" if alert.acknowledged else "")


def _risk_sentence(p: PatientFacts) -> str:
    named = (("LACE", p.lace), ("HOSPITAL", p.hospital))
    scores = ", ".join(f"{name} {total}" for name, total in named if total is not None)
    if p.high_risk:
        return f"High discharge risk ({scores})"
    return f"Discharge risk {p.discharge_risk:.2f} ({scores})"


def days_since_discharge(p: PatientFacts, now: datetime) -> int | None:
    """Whole days from the discharge date to the patient's today (UTC's if not given)."""
    if p.discharge_date is None:
        return None
    return ((p.today or now.date()) - p.discharge_date).days


def _leadage_text(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since) / timedelta(hours=1))


def score(p: PatientFacts, *, now: datetime) -> Scored:
    """The patient's priority and reasons at ``now`` (see the module docstring)."""
    today = p.today or now.date()
    live = [a for a in p.alerts if not a.snoozed(now)]
    clinical = [a for a in live if a.kind not in ADHERENCE_FLAG and a.level > 0]
    lead = min(clinical, key=lambda a: (-a.level, a.opened_at)) if clinical else None
    pressing = sorted((d for d in p.deadlines if d.pressing(today)), key=lambda d: d.due_at)
    alert_band = ALERT_BANDS.get(lead.level, 0) if lead else 0
    band = max(alert_band, DEADLINE_BAND if pressing else 0)
    parts: list[tuple[float, int, str]] = []  # (points, tie order, sentence)
    lead_age = 0.0
    for deadline in p.deadlines:
        points = 0.0
        if band == DEADLINE_BAND and deadline is pressing[0]:
            lead_age = _leadage_text(deadline.due_at - timedelta(days=1), now)
            points = BAND * band + AGE_PER_HOUR * min(lead_age, AGE_CAP_HOURS)
        order = 1 if deadline.pressing(today) else 5
        parts.append((points, order, deadline.sentence(now, today)))
    if lead is not None:
        age = _leadage_text(lead.opened_at, now)
        if band == alert_band:
            lead_age = age
            points = BAND * band + AGE_PER_HOUR * min(age, AGE_CAP_HOURS)
        else:
            points = 0.0
        points += LOW_BAND_LEVEL_POINTS.get(lead.level, 0.0)
        ack = " (acknowledged)" if lead.acknowledged else ""
        head = f"{lead.severity.capitalize()} alert{ack} open {age_text(age)}"
        parts.append((points, 0, f"{head}: {_short(lead.reason)}"))
        others = [a for a in clinical if a is not lead]
        if others:
            counts = ", ".join(
                f"{n} {s}" for s in SEVERITIES if (n := sum(a.severity == s for a in others))
            )
            parts.append((0.0, 9, f"{_plural(len(others), 'more alert')} open ({counts})"))
    if p.discharge_risk is not None:
        points = RISK_POINTS * p.discharge_risk + (HIGH_RISK_POINTS if p.high_risk else 0.0)
        parts.append((points, 2, _risk_sentence(p)))
    else:
        parts.append((0.0, 8, "No discharge risk score (inputs missing at enrollment)"))
    flags = dict.fromkeys(ADHERENCE_POINTS, False)
    raised: dict[str, list[OpenAlert]] = {}
    for a in live:
        if (flag := ADHERENCE_FLAG.get(a.kind)) is not None:
            raised.setdefault(flag, []).append(a)
    for flag, alerts in raised.items():
        flags[flag] = True
        first = min(alerts, key=lambda a: (a.acknowledged, not _linked(flag, a), a.opened_at))
        weight = ADHERENCE_POINTS[flag] / (2 if first.acknowledged else 1)
        weight *= LINKED_REFILL_FACTOR if _linked(flag, first) else 1.0
        parts.append((weight, 3, _adherence_sentence(flag, first, len(alerts) - 1)))
    days = days_since_discharge(p, now)
    window = get_pathway(p.pathway).post_discharge_days
    if days is not None and 0 <= days < window:
        parts.append((EARLY_POINTS * (1 - days / window), 4, f"Day {days} after discharge"))
    for i, notice in enumerate(p.notices):
        parts.append((NOTICE_POINTS if i == 0 else 0.0, 6, notice.text))
    snoozed = len(p.alerts) - len(live)
    if snoozed:
        parts.append((0.0, 10, f"{_plural(snoozed, 'alert')} snoozed"))
    parts.sort(key=lambda part: (-part[0], part[1]))
    return Scored(
        patient_id=p.patient_id,
        priority=round(sum(points for points, _, _ in parts), 1),
        band=band,
        lead_age_hours=lead_age,
        days_since_discharge=days,
        flags=flags,
        reasons=tuple(sentence for _, _, sentence in parts),
    )


def rank(patients: Iterable[PatientFacts], *, now: datetime) -> list[Scored]:
    """Every patient scored, highest priority first (ties: older lead alert, then id)."""
    scored = [score(p, now=now) for p in patients]
    scored.sort(key=lambda s: (-s.priority, -s.lead_age_hours, s.patient_id))
    return scored


def severity_counts(alerts: Sequence[OpenAlert], *, now: datetime) -> dict[str, int]:
    """Open alerts of every kind by severity, plus how many are acknowledged or snoozed."""
    live = [a for a in alerts if not a.snoozed(now)]
    counts = {s: sum(a.severity == s for a in live) for s in SEVERITIES}
    counts["acknowledged"] = sum(a.acknowledged for a in live)
    counts["snoozed"] = len(alerts) - len(live)
    return counts
