"""The non-adherence checks over the database: gather each patient's facts, check them.

:func:`check_patients` reads, for every patient or some, what
:func:`streaming.adherence.check_adherence` and the clearing rules
(:mod:`streaming.clearing`) need (latest measurement and reading counts per
measure, devices, and, for the patients whose readings are overdue or whose
gateway alert is open, their devices' health and gateways), and returns the
detections and the facts. Gateway presence (the Last Will) is checked over
every gateway by :func:`offline_detections`. Recording and clearing alerts is
:mod:`flows.schedule`'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection, Severity
from hub.db import Conn
from hub.domain import DeviceKind, Measure
from hub.pathways import get_pathway
from hub.sql import queries
from streaming.adherence import DeviceActivity, MeasureActivity, check_adherence, frequency_windows
from streaming.clearing import DeviceState, GatewayState, PatientFacts
from streaming.device_health import DeviceHealth, explain_missed

#: How far back each pass looks for new latest measurements; a reading that
#: arrives later than this after it was measured cannot be anyone's latest.
LATEST_LOOKBACK = timedelta(days=35)

#: Device statuses that take no part in the checks.
_UNUSED = ("retired", "disabled")


def refresh_latest(conn: Conn, *, now: datetime) -> None:
    """Bring ``measure_latest`` up to date from the recent readings."""
    conn.execute(queries["refresh_measure_latest"], {"since": now - LATEST_LOOKBACK})


#: The named queries of one pass: over every patient, or over some (on arrival).
_EVERYONE = ("adherence_patients", "adherence_latest", "adherence_recent_readings",
             "adherence_devices")  # fmt: skip
_SOME = ("arrival_patients", "arrival_latest", "arrival_recent_readings", "arrival_devices")


@dataclass(slots=True)
class Checked:
    """What one pass found: detections and facts per patient checked."""

    found: dict[UUID, list[Detection]] = field(default_factory=dict)
    facts: dict[UUID, PatientFacts] = field(default_factory=dict)


def check_patients(
    conn: Conn,
    *,
    now: datetime,
    patient_ids: Collection[UUID] | None = None,
    counts: bool = True,
    health_for: Collection[UUID] = (),
) -> Checked:
    """Every patient's (or ``patient_ids``') non-adherence detections at ``now``.

    Without ``counts`` the reading counts are not read (no frequency checks).
    Device health and gateways are read for the patients with overdue
    readings and for ``health_for``.
    """
    some = patient_ids is not None
    q_patients, q_latest, q_recent, q_devices = _SOME if some else _EVERYONE
    only: dict[str, object] = {"patient_ids": list(patient_ids or ())}
    if not some:
        refresh_latest(conn, now=now)
    patients = conn.execute(queries[q_patients], only).fetchall()
    latest: dict[UUID, dict[Measure, datetime]] = defaultdict(dict)
    for patient_id, measure, at in conn.execute(
        queries[q_latest],
        {**only, "since": now - LATEST_LOOKBACK, "measures": [m.value for m in Measure]},
    ).fetchall():
        latest[patient_id][Measure(measure)] = at
    pathways = {name: get_pathway(name) for name in {str(p[1]) for p in patients}}
    times: dict[tuple[UUID, Measure], list[datetime]] = defaultdict(list)
    if counts:
        earliest = min((frequency_windows(p, now)[1][0] for p in pathways.values()), default=now)
        for patient_id, measure, at in conn.execute(
            queries[q_recent], {**only, "since": earliest, "until": now}
        ).fetchall():
            times[(patient_id, Measure(measure))].append(at)
    usable: dict[UUID, list[DeviceActivity]] = defaultdict(list)
    states: dict[UUID, dict[int, DeviceState]] = defaultdict(dict)
    for patient_id, device_id, serial, status, activated_at, registered_at in conn.execute(
        queries[q_devices], only
    ).fetchall():
        states[patient_id][int(device_id)] = DeviceState(serial, status, activated_at)
        if status not in _UNUSED:
            usable[patient_id].append(DeviceActivity(int(device_id), activated_at, registered_at))

    out = Checked()
    for patient_id, pathway_name, enrolled_at, discharge_date in patients:
        pathway = pathways[str(pathway_name)]
        (recent_start, _), (previous_start, split) = frequency_windows(pathway, now)
        activity = {}
        for measure in Measure:
            seen = times.get((patient_id, measure), [])
            activity[measure] = MeasureActivity(
                latest[patient_id].get(measure),
                recent_count=sum(1 for t in seen if t >= recent_start),
                previous_count=sum(1 for t in seen if previous_start <= t < split),
            )
        discharged_at = (
            datetime.combine(discharge_date, time(), tzinfo=UTC) if discharge_date else None
        )
        found = check_adherence(
            patient_id=patient_id,
            pathway=pathway,
            enrolled_at=enrolled_at,
            now=now,
            measures=activity,
            devices=usable.get(patient_id, ()),
            discharged_at=discharged_at,
        )
        if not counts:
            found = [d for d in found if d.kind is not AlertKind.FREQUENCY_DROP]
        out.found[patient_id] = found
        out.facts[patient_id] = PatientFacts(
            pathway, enrolled_at, measures=activity, devices=states.get(patient_id, {})
        )
    # Device facts are read only for the patients whose readings are overdue.
    missed = {
        p for p, found in out.found.items() for d in found if d.kind is AlertKind.MISSED_READINGS
    }
    wanted = missed | (set(health_for) & set(out.found))
    if wanted:
        health = device_health(conn, patient_ids=wanted)
        for patient_id in wanted:
            mine = health.get(patient_id, [])
            facts = out.facts[patient_id]
            out.found[patient_id] = [
                explain_missed(d, devices=mine, pathway=facts.pathway, now=now)
                for d in out.found[patient_id]
            ]
            gateways = {
                h.gateway_id: GatewayState(h.gateway_id, h.presence, h.presence_at) for h in mine
            }
            out.facts[patient_id] = PatientFacts(
                facts.pathway,
                facts.enrolled_at,
                measures=facts.measures,
                devices=facts.devices,
                gateways=[gateways[g] for g in sorted(gateways)],
            )
    return out


@dataclass(frozen=True, slots=True)
class _Health(DeviceHealth):
    """A device's health with its gateway's presence as stored (online too)."""

    presence: str | None = None
    presence_at: datetime | None = None


def device_health(conn: Conn, *, patient_ids: Collection[UUID]) -> dict[UUID, list[_Health]]:
    """Each patient's usable devices with their battery and gateway presence."""
    health: dict[UUID, list[_Health]] = defaultdict(list)
    rows = conn.execute(queries["device_health"], {"patient_ids": list(patient_ids)})
    for patient_id, serial, kind, gateway_id, battery, reported_at, presence, since in rows:
        health[patient_id].append(
            _Health(
                serial=serial,
                measures=DeviceKind(kind).measures,
                gateway_id=gateway_id,
                battery_percent=battery,
                battery_reported_at=reported_at,
                gateway_offline_since=since if presence == "offline" else None,
                presence=presence,
                presence_at=since,
            )
        )
    return health


def offline_detections(conn: Conn, *, now: datetime, after: timedelta) -> list[Detection]:
    """A ``gateway_offline`` detection for each patient behind a gateway offline ``after``."""
    found = []
    for gateway_id, since, patient_id in conn.execute(
        queries["offline_gateways"], {"before": now - after}
    ).fetchall():
        hours = (now - since) / timedelta(hours=1)
        found.append(
            Detection(
                patient_id=patient_id,
                kind=AlertKind.GATEWAY_OFFLINE,
                severity=Severity.MEDIUM,
                source="rule:gateway_offline",
                measure=None,
                observed={"hours_offline": round(hours, 1)},
                baseline={"threshold_hours": after / timedelta(hours=1)},
                window_start=since,
                window_end=now,
                reason=f"gateway {gateway_id} has been offline for {hours:.0f} h "
                "(its Last Will): the patient's devices cannot send readings",
            )
        )
    return found
