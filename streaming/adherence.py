"""Non-adherence, the pure part: is the patient measuring as the pathway asks?

The caller gathers the facts (last measurement per measure, reading counts,
devices' first readings) and passes ``now``; nothing here reads a clock, so
the same facts and ``now`` always give the same detections. Gateway offline
is decided elsewhere (the gateway's Last Will). Each check is documented in
``pathways.toml`` (``[default.adherence]``):

* **missed readings**: an expected measure (the pathway's ``schedule``) with
  no reading for more than its interval plus ``grace_hours`` (daily → 72 h),
  counted from enrolment when there was never one;
* **device never active**: a device with no reading more than
  ``activation_days`` after it was assigned (at enrolment unless said);
* **frequency drop**: readings of a measure in the last ``recent_days`` at a
  daily rate below ``ratio`` times the rate of the ``previous_days`` before,
  once the patient is enrolled for both windows and had at least
  ``min_previous`` readings in the earlier one.

Within the post-discharge window each detection is one severity level higher.
When the condition clears, the alert resolves itself: the rules for that
(and the hysteresis of the frequency drop, ``recovered_ratio``) are in
:mod:`streaming.clearing`.

>>> from datetime import datetime, timedelta, UTC
>>> from uuid import UUID
>>> from hub.pathways import get_pathway
>>> now = datetime(2025, 3, 10, 12, tzinfo=UTC)
>>> found = check_adherence(
...     patient_id=UUID(int=1), pathway=get_pathway("HTN"),
...     enrolled_at=now - timedelta(days=5), now=now,
...     measures={Measure.BLOOD_PRESSURE: MeasureActivity(now - timedelta(hours=73))},
... )
>>> [(d.kind.value, d.severity.value, d.observed["hours_since_last"]) for d in found]
[('missed_readings', 'low', 73.0)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure
from hub.pathways import Pathway
from streaming.detectors.base import higher
from streaming.exceptions import NaiveDatetimeError

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class MeasureActivity:
    """What the patient did for one measure.

    The counts are readings measured in the two windows that
    :func:`frequency_windows` returns for the same ``now``.
    """

    last_measured_at: datetime | None
    recent_count: int = 0
    previous_count: int = 0


@dataclass(frozen=True, slots=True)
class DeviceActivity:
    """One device of the patient and its first reading, if any."""

    device_id: int
    first_reading_at: datetime | None
    assigned_at: datetime | None = None


def frequency_windows(
    pathway: Pathway, now: datetime
) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The (recent, previous) half-open windows whose readings to count."""
    a = pathway.adherence
    split = now - timedelta(days=a.recent_days)
    return (split, now), (split - timedelta(days=a.previous_days), split)


def _aware(**times: datetime | None) -> None:
    for name, value in times.items():
        if value is not None and value.tzinfo is None:
            raise NaiveDatetimeError(f"{name} must be timezone-aware")


def check_adherence(
    *,
    patient_id: UUID,
    pathway: Pathway,
    enrolled_at: datetime,
    now: datetime,
    measures: Mapping[Measure, MeasureActivity],
    devices: Sequence[DeviceActivity] = (),
    discharged_at: datetime | None = None,
) -> list[Detection]:
    """Non-adherence detections for one patient at ``now``."""
    _aware(enrolled_at=enrolled_at, now=now, discharged_at=discharged_at)
    post_discharge = pathway.in_post_discharge(discharged_at, now)

    def severity(base: Severity) -> Severity:
        return higher(base) if post_discharge else base

    a, sev = pathway.adherence, pathway.severity
    out: list[Detection] = []
    for measure, every in pathway.schedule.items():
        activity = measures.get(measure, MeasureActivity(None))
        _aware(last_measured_at=activity.last_measured_at)
        since = activity.last_measured_at or enrolled_at
        allowed = every + a.grace_hours
        hours = (now - since) / HOUR
        if hours > allowed:
            never = activity.last_measured_at is None
            what = "since enrolment" if never else "since the last one"
            out.append(
                Detection(
                    patient_id=patient_id,
                    kind=AlertKind.MISSED_READINGS,
                    severity=severity(sev.missed_readings),
                    source="rule:missed_readings",
                    measure=measure,
                    observed={"hours_since_last": round(hours, 2)},
                    baseline={"expected_every_hours": every, "allowed_hours": allowed},
                    window_start=since,
                    window_end=now,
                    reason=f"No {measure.value} reading for {hours:.0f} h {what}; "
                    f"the {pathway.name} pathway expects one every {every:g} h.",
                )
            )
    for device in devices:
        _aware(first_reading_at=device.first_reading_at, assigned_at=device.assigned_at)
        assigned = device.assigned_at or enrolled_at
        days = (now - assigned) / timedelta(days=1)
        if device.first_reading_at is None and days > a.activation_days:
            out.append(
                Detection(
                    patient_id=patient_id,
                    kind=AlertKind.DEVICE_NEVER_ACTIVE,
                    severity=severity(sev.device_never_active),
                    source="rule:device_never_active",
                    measure=None,
                    observed={"device_id": float(device.device_id), "days_without": days},
                    baseline={"activation_days": a.activation_days},
                    window_start=assigned,
                    window_end=now,
                    reason=f"Device {device.device_id} has sent no reading in the {days:.0f} "
                    f"days since it was assigned (expected within {a.activation_days:g}).",
                )
            )
    enrolled_days = (now - enrolled_at) / timedelta(days=1)
    if enrolled_days < a.recent_days + a.previous_days:
        return out
    _, (previous_start, _) = frequency_windows(pathway, now)
    for measure, activity in measures.items():
        recent_rate = activity.recent_count / a.recent_days
        previous_rate = activity.previous_count / a.previous_days
        if activity.previous_count < a.min_previous or recent_rate >= a.ratio * previous_rate:
            continue
        out.append(
            Detection(
                patient_id=patient_id,
                kind=AlertKind.FREQUENCY_DROP,
                severity=severity(sev.frequency_drop),
                source="rule:frequency_drop",
                measure=measure,
                observed={"recent_per_day": round(recent_rate, 3)},
                baseline={"previous_per_day": round(previous_rate, 3), "ratio": a.ratio},
                window_start=previous_start,
                window_end=now,
                reason=f"{measure.value.capitalize()} readings fell to {recent_rate:.2f}/day "
                f"in the last {a.recent_days:g} days from {previous_rate:.2f}/day before.",
            )
        )
    return out
