"""When a condition alert's condition is gone: the clearing rules, the pure part.

The non-adherence checks (:mod:`streaming.adherence`) and device health
(:mod:`streaming.device_health`) open alerts whose condition can end by
itself. Each rule below decides, for one patient's unresolved alert and the
facts at ``now``, whether the alert is resolved (:class:`Resolve`, with the
sentence that says what cleared it), re-headlined (:class:`Reheadline`: its
headline names something that cleared while the same condition goes on for
something else) or left alone. An alert is one per patient and kind, and may
have been raised for several measures or devices; its *headline* is its
newest evidence (the measure or device its reason names).

* **missed readings**: measure M is missing while its latest measurement is
  older than its schedule interval plus ``grace_hours``; the alert is
  resolved once no measure of the pathway's schedule is missing (a device
  problem that explains the headline measure also ends it: one alert, about
  the device), and re-headlined to a measure still missing when its headline
  measure is back (the alert is per patient, its headline names one measure:
  it must name one that is missing), or to the same measure when a later
  reading that is still too old arrived (a backfill under way: "no reading
  for 618 h" becomes "for 90 h");
* **device problem**: stays while its measure is overdue, whatever became of
  the battery or gateway that explained it (the coordinator is on it), and is
  resolved when readings of that measure resume (latest measurement within the
  allowance again); while it is open, that measure's overdue readings raise
  no ``missed_readings`` alert (:func:`explained_by_open_problems`);
* **frequency drop**: resolved when the headline measure's recent rate has
  recovered: at least one reading in the last ``recent_days`` and a rate of at
  least ``recovered_ratio`` (0.7) times the rate of the ``previous_days``
  before. The alert opens below ``ratio`` (0.4); the gap between the two
  keeps a rate hovering around one limit from opening and closing alerts day
  after day, and a patient who stopped altogether keeps the alert;
* **device never active**: resolved when no device is waiting for its first
  reading (the headline device sent one, or was retired or disabled);
* **gateway offline**: resolved when no gateway of the patient is offline
  past the limit any more (the gateway published ``online``; the ingest worker
  resolves it at once on that message, :func:`flows.schedule.clear_gateway_offline`).

(Reading gaps clear when the missing sequence numbers arrive:
:mod:`flows.reading_gaps`.)

When they are judged (:mod:`flows.schedule`): missed readings, device
problems and devices never active in every ingest batch of the patient, in
its transaction (so the reading that clears one resolves it); the frequency
drop in the full checks (on arrival at most once per ``adherence_interval_s``,
and the scheduled pass: a rate recovers over days); gateway offline on the
gateway's ``online`` message and in the scheduled pass.

>>> from datetime import timedelta
>>> from uuid import UUID
>>> from streaming.adherence import MeasureActivity
>>> from hub.pathways import get_pathway
>>> now = datetime(2026, 12, 7, 12, tzinfo=UTC)
>>> bp = Measure.BLOOD_PRESSURE
>>> missed = OpenAlert(UUID(int=1), AlertKind.MISSED_READINGS, Severity.LOW, bp)
>>> facts = PatientFacts(get_pathway("HTN"), enrolled_at=now - timedelta(days=40),
...                      measures={bp: MeasureActivity(now - timedelta(hours=3, minutes=50))})
>>> print(settle(missed, found=[], facts=facts, now=now).cleared_by)
a blood-pressure reading measured 2026-12-07 08:10 UTC arrived; blood pressure \
is within its allowed 72 h (every 24 h, 48 h grace) again
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure
from hub.pathway_params import AdherenceParams
from hub.pathways import Pathway
from streaming.adherence import MeasureActivity

_HOUR = timedelta(hours=1)

#: The kinds whose condition can end by itself, as this module judges them.
CONDITION_KINDS = frozenset(
    {
        AlertKind.MISSED_READINGS,
        AlertKind.DEVICE_PROBLEM,
        AlertKind.FREQUENCY_DROP,
        AlertKind.DEVICE_NEVER_ACTIVE,
        AlertKind.GATEWAY_OFFLINE,
    }
)


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """A patient's unresolved alert and what its headline (newest evidence) names."""

    patient_id: UUID
    kind: AlertKind
    severity: Severity
    measure: Measure | None = None
    device_id: int | None = None
    #: Where the headline's evidence window starts: for overdue readings, the
    #: last reading (or the enrolment) the headline counts from.
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceState:
    serial: str
    status: str
    activated_at: datetime | None


@dataclass(frozen=True, slots=True)
class GatewayState:
    gateway_id: str
    presence: str | None
    presence_at: datetime | None


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the clearing rules read of one patient at ``now``."""

    pathway: Pathway
    enrolled_at: datetime
    measures: Mapping[Measure, MeasureActivity] = field(default_factory=dict)
    devices: Mapping[int, DeviceState] = field(default_factory=dict)
    gateways: Sequence[GatewayState] = ()


@dataclass(frozen=True, slots=True)
class Resolve:
    cleared_by: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reheadline:
    """The alert goes on, about what ``detection`` names."""

    detection: Detection


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _article(word: str) -> str:
    """``a`` or ``an``.

    >>> _article("oxygen-saturation"), _article("blood-pressure")
    ('an', 'a')
    """
    return "an" if word[:1] in "aeiou" else "a"


def _label(measure: Measure) -> str:
    return measure.value.replace("-", " ")


def overdue(measure: Measure, facts: PatientFacts, now: datetime) -> bool:
    """Whether ``measure`` is scheduled and missing at ``now`` (the missed-readings rule)."""
    every = facts.pathway.schedule.get(measure)
    if every is None:
        return False
    last = facts.measures.get(measure, MeasureActivity(None)).last_measured_at
    allowed = (every + facts.pathway.adherence.grace_hours) * _HOUR
    return now - (last or facts.enrolled_at) > allowed


def recovered(activity: MeasureActivity, a: AdherenceParams) -> bool:
    """Whether a measure's reading rate is back up (see the module docstring).

    >>> from hub.pathways import get_pathway
    >>> a = get_pathway("CHF").adherence  # 7 recent days, 14 before, 0.7
    >>> recovered(MeasureActivity(None, recent_count=5, previous_count=14), a)
    True
    >>> recovered(MeasureActivity(None, recent_count=4, previous_count=14), a)
    False
    >>> recovered(MeasureActivity(None, recent_count=0, previous_count=0), a)
    False
    """
    recent = activity.recent_count / a.recent_days
    previous = activity.previous_count / a.previous_days
    return activity.recent_count > 0 and recent >= a.recovered_ratio * previous


def explained_by_open_problems(
    found: Sequence[Detection], open_alerts: Mapping[AlertKind, OpenAlert]
) -> list[Detection]:
    """``found`` less the missed readings that an open device problem already covers."""
    problem = open_alerts.get(AlertKind.DEVICE_PROBLEM)
    if problem is None:
        return list(found)
    return [
        d
        for d in found
        if not (d.kind is AlertKind.MISSED_READINGS and d.measure == problem.measure)
    ]


def _back(measure: Measure | None, facts: PatientFacts) -> Resolve:
    """The readings of ``measure`` are within their allowance again."""
    if measure is None:
        return Resolve("no measure of the pathway's schedule is overdue any more", {})
    pathway = facts.pathway
    every = pathway.schedule.get(measure)
    if every is None:
        return Resolve(
            f"{_label(measure)} is no longer on the {pathway.name} pathway's schedule",
            {"measure": measure.value},
        )
    last = facts.measures.get(measure, MeasureActivity(None)).last_measured_at
    grace = pathway.adherence.grace_hours
    allowance = f"its allowed {every + grace:g} h (every {every:g} h, {grace:g} h grace)"
    if last is None:
        return Resolve(f"{_label(measure)} is within {allowance}", {"measure": measure.value})
    return Resolve(
        f"{_article(measure.value)} {measure.value} reading measured {_utc(last)} arrived; "
        f"{_label(measure)} is within {allowance} again",
        {"measure": measure.value, "last_measured_at": last.isoformat()},
    )


def _refreshed(alert: OpenAlert, current: Detection | None, refresh: bool) -> Reheadline | None:
    """The headline's measure is overdue still, counted from a later reading now."""
    if not refresh or current is None or alert.since is None:
        return None
    return Reheadline(current) if current.window_start > alert.since else None


def _missed(
    alert: OpenAlert,
    found: Sequence[Detection],
    facts: PatientFacts,
    now: datetime,
    refresh: bool,
) -> Resolve | Reheadline | None:
    still = [d for d in found if d.kind is AlertKind.MISSED_READINGS]
    if still:
        same = next((d for d in still if d.measure == alert.measure), None)
        if same is not None:
            return _refreshed(alert, same, refresh)
        return Reheadline(still[0])
    if alert.measure is not None and overdue(alert.measure, facts, now):
        problem = next(
            (d for d in found if d.kind is AlertKind.DEVICE_PROBLEM and d.measure == alert.measure),
            None,
        )
        why = problem.reason if problem else "see the patient's open device-problem alert"
        return Resolve(f"explained by a device problem: {why}", {"measure": alert.measure.value})
    return _back(alert.measure, facts)


def _device_problem(
    alert: OpenAlert,
    found: Sequence[Detection],
    facts: PatientFacts,
    now: datetime,
    refresh: bool,
) -> Resolve | Reheadline | None:
    others = [d for d in found if d.kind is AlertKind.DEVICE_PROBLEM]
    if alert.measure is not None and overdue(alert.measure, facts, now):
        same = next((d for d in others if d.measure == alert.measure), None)
        return _refreshed(alert, same, refresh)
    if others:
        return Reheadline(others[0])
    return _back(alert.measure, facts)


def _frequency(
    alert: OpenAlert, found: Sequence[Detection], facts: PatientFacts
) -> Resolve | Reheadline | None:
    a = facts.pathway.adherence
    measure = alert.measure
    activity = facts.measures.get(measure) if measure is not None else None
    if activity is not None and not recovered(activity, a):
        return None
    drops = [d for d in found if d.kind is AlertKind.FREQUENCY_DROP]
    if drops:
        return Reheadline(drops[0])
    if measure is None or activity is None:
        return Resolve("no measure's reading rate has dropped any more", {})
    recent = activity.recent_count / a.recent_days
    previous = activity.previous_count / a.previous_days
    return Resolve(
        f"{_label(measure).capitalize()} readings are back to {recent:.2f}/day in the last "
        f"{a.recent_days:g} days, from {previous:.2f}/day in the {a.previous_days:g} days "
        f"before (a drop clears at {a.recovered_ratio:g} times that rate)",
        {
            "measure": measure.value,
            "recent_per_day": round(recent, 3),
            "previous_per_day": round(previous, 3),
        },
    )


def _never_active(
    alert: OpenAlert, found: Sequence[Detection], facts: PatientFacts
) -> Resolve | Reheadline | None:
    waiting = [d for d in found if d.kind is AlertKind.DEVICE_NEVER_ACTIVE]
    if any(int(d.observed["device_id"]) == alert.device_id for d in waiting):
        return None
    if waiting:
        return Reheadline(waiting[0])
    device = facts.devices.get(alert.device_id) if alert.device_id is not None else None
    if device is None:
        return Resolve("no device of the patient is waiting for its first reading any more", {})
    detail = {"device_serial": device.serial}
    if device.activated_at is not None:
        return Resolve(
            f"device {device.serial} sent its first reading (received {_utc(device.activated_at)})",
            {**detail, "activated_at": device.activated_at.isoformat()},
        )
    return Resolve(
        f"device {device.serial} is {device.status}", {**detail, "status": device.status}
    )


def _gateway(found: Sequence[Detection], facts: PatientFacts) -> Resolve | None:
    if any(d.kind is AlertKind.GATEWAY_OFFLINE for d in found):
        return None
    online = sorted(
        (g for g in facts.gateways if g.presence == "online" and g.presence_at is not None),
        key=lambda g: g.gateway_id,
    )
    if not online:
        return Resolve("no gateway of the patient is offline past the limit any more", {})
    said = "; ".join(
        f"gateway {g.gateway_id} reported online at {_utc(g.presence_at)}"
        for g in online
        if g.presence_at is not None
    )
    return Resolve(said, {"gateway_ids": [g.gateway_id for g in online]})


def settle(
    alert: OpenAlert,
    *,
    found: Sequence[Detection],
    facts: PatientFacts,
    now: datetime,
    refresh: bool = True,
) -> Resolve | Reheadline | None:
    """What becomes of ``alert`` given this patient's detections ``found`` at ``now``.

    ``found`` are the checks' detections of this patient at ``now``, less
    those an open device problem covers (:func:`explained_by_open_problems`).
    With ``refresh``, an overdue measure's alert whose headline counts from an
    older reading than the latest (a backfill or a late reading moved it on)
    is re-headlined to the hours that are overdue now; the clearing on every
    batch leaves that to the full checks, so as not to write evidence with
    each batch of a backfill.
    """
    if alert.kind is AlertKind.MISSED_READINGS:
        return _missed(alert, found, facts, now, refresh)
    if alert.kind is AlertKind.DEVICE_PROBLEM:
        return _device_problem(alert, found, facts, now, refresh)
    if alert.kind is AlertKind.FREQUENCY_DROP:
        return _frequency(alert, found, facts)
    if alert.kind is AlertKind.DEVICE_NEVER_ACTIVE:
        return _never_active(alert, found, facts)
    if alert.kind is AlertKind.GATEWAY_OFFLINE:
        return _gateway(found, facts)
    return None
