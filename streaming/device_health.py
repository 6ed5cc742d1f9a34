"""A dead battery is not a non-adherent patient: missed readings explained by a device.

When a patient's readings of a measure are overdue (``missed_readings``) and
a device that reports that measure said its battery was at or below the
pathway's ``adherence.low_battery_percent`` within the last
``adherence.battery_recent_hours``, or its gateway is offline (its Last
Will), the detection becomes a ``device_problem`` that says so: the
coordinator sends a battery or a technician instead of calling about
adherence. Pure: the caller gathers the facts (:mod:`streaming.adherence_facts`).

>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> from streaming.adherence import MeasureActivity, check_adherence
>>> from hub.pathways import get_pathway
>>> now = datetime(2025, 3, 10, 12, tzinfo=UTC)
>>> htn = get_pathway("HTN")
>>> [missed] = check_adherence(
...     patient_id=UUID(int=1), pathway=htn, enrolled_at=now - timedelta(days=9), now=now,
...     measures={Measure.BLOOD_PRESSURE: MeasureActivity(now - timedelta(hours=80))},
... )
>>> cuff = DeviceHealth("BP-1", frozenset({Measure.BLOOD_PRESSURE}), "gw-1",
...                     battery_percent=4, battery_reported_at=now - timedelta(hours=30))
>>> found = explain_missed(missed, devices=[cuff], pathway=htn, now=now)
>>> found.kind.value, found.observed["battery_percent"]
('device_problem', 4.0)
>>> print(found.reason)
No blood-pressure reading for 80 h: device BP-1 reported its battery at 4 % \
on 2025-03-09 06:00 UTC; this looks like a device problem, not non-adherence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.alerting import AlertKind, Detection
from hub.domain import Measure
from hub.pathways import Pathway

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """One usable device of a patient: what it measures, its battery, its gateway."""

    serial: str
    measures: frozenset[Measure]
    gateway_id: str
    battery_percent: int | None = None
    battery_reported_at: datetime | None = None
    #: When the gateway's Last Will (or ``offline``) was received; None while online.
    gateway_offline_since: datetime | None = None


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def explain_missed(
    detection: Detection, *, devices: Sequence[DeviceHealth], pathway: Pathway, now: datetime
) -> Detection:
    """``detection`` as a ``device_problem`` if a device explains it; else unchanged."""
    if detection.kind is not AlertKind.MISSED_READINGS or detection.measure is None:
        return detection
    a = pathway.adherence
    problems: list[str] = []
    observed = dict(detection.observed)
    for device in devices:
        if detection.measure not in device.measures:
            continue
        at = device.battery_reported_at
        if (
            device.battery_percent is not None
            and at is not None
            and device.battery_percent <= a.low_battery_percent
            and now - at <= a.battery_recent_hours * _HOUR
        ):
            problems.append(
                f"device {device.serial} reported its battery at {device.battery_percent} % "
                f"on {_utc(at)}"
            )
            observed["battery_percent"] = float(device.battery_percent)
        if device.gateway_offline_since is not None:
            problems.append(
                f"gateway {device.gateway_id} has been offline since "
                f"{_utc(device.gateway_offline_since)}"
            )
            observed["hours_offline"] = round((now - device.gateway_offline_since) / _HOUR, 1)
    if not problems:
        return detection
    hours = detection.observed.get("hours_since_last", 0.0)
    return dataclasses.replace(
        detection,
        kind=AlertKind.DEVICE_PROBLEM,
        severity=pathway.severity.device_problem,
        source="rule:device_problem",
        observed=observed,
        baseline={**detection.baseline, "low_battery_percent": a.low_battery_percent},
        reason=f"No {detection.measure.value} reading for {hours:.0f} h: "
        + "; ".join(dict.fromkeys(problems))
        + "; this looks like a device problem, not non-adherence.",
    )
