"""The device life cycle: status changes with their history, retirement and replacement.

Statuses (:class:`~devices.models.DeviceStatus`)::

    registered ──first accepted reading──▶ active ◀──accepted reading── silent
                                             └──no reading for too long──▶ ┘
    registered / active / silent ──disable──▶ disabled ──enable──▶ registered or active
    any but retired ──retire (or replace)──▶ retired   (final)

Every change writes a ``device_events`` row: when, from and to which status,
who (a user, or the part of the hub: ``ingest``, ``silence-check``) and why.

**The silence rule.** A device is expected to send what it can measure of
its patient's pathway schedule (``hub/pathways.toml``). It turns
``silent`` when its last accepted reading was received longer ago than the
shortest such interval plus the pathway's ``adherence.grace_hours``, the
same allowance after which the patient's readings count as missed (so a
daily scale on the CHF pathway is silent after 72 h). A device that measures
nothing its pathway schedules never turns silent. The periodic pass of the
ingest worker (:class:`flows.scheduler.AdherenceScheduler`) applies it.

Every function is keyword-only, takes the connection and never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from psycopg.rows import class_row, dict_row

from devices.models import Device, DeviceEvent, DeviceOverview, DeviceStatus, GatewayDetail
from devices.service import create_device
from hub.db import Conn
from hub.domain import DeviceKind
from hub.exceptions import ConflictError, NotFoundError
from hub.pathways import Pathway, get_pathway
from hub.sql import queries

log = logging.getLogger(__name__)

#: Statuses from which an administrator may disable or retire a device.
_IN_USE = [DeviceStatus.REGISTERED, DeviceStatus.ACTIVE, DeviceStatus.SILENT]


def silence_allowance(pathway: Pathway, kind: DeviceKind) -> timedelta | None:
    """How long a device of ``kind`` may send nothing before it is silent; None: never.

    >>> from hub.pathways import get_pathway
    >>> silence_allowance(get_pathway("CHF"), DeviceKind.SCALE)
    datetime.timedelta(days=3)
    >>> silence_allowance(get_pathway("HTN"), DeviceKind.SCALE) is None
    True
    """
    hours = [every for measure, every in pathway.schedule.items() if measure in kind.measures]
    if not hours:
        return None
    return timedelta(hours=min(hours) + pathway.adherence.grace_hours)


def touch_devices(conn: Conn, *, device_ids: Iterable[int], at: datetime) -> None:
    """Accepted readings from these devices arrived at ``at``: last reading, activation."""
    ids = sorted(set(device_ids))
    if ids:
        conn.execute(queries["touch_devices"], {"ids": ids, "at": at})


def mark_silent_devices(conn: Conn, *, now: datetime) -> list[int]:
    """Apply the silence rule at ``now``; the ids of the devices it made silent."""
    rows = conn.execute(queries["active_devices_for_silence"]).fetchall()
    ids: list[int] = []
    cutoffs: list[datetime] = []
    reasons: list[str] = []
    for device_id, kind, pathway_name, last_heard_at in rows:
        allowance = silence_allowance(get_pathway(str(pathway_name)), DeviceKind(kind))
        if allowance is None or now - last_heard_at <= allowance:
            continue
        hours = (now - last_heard_at) / timedelta(hours=1)
        ids.append(int(device_id))
        cutoffs.append(now - allowance)
        reasons.append(
            f"no accepted reading for {hours:.0f} h; the {pathway_name} pathway allows "
            f"{allowance / timedelta(hours=1):g} h for a {kind}"
        )
    if not ids:
        return []
    params = {"ids": ids, "cutoffs": cutoffs, "reasons": reasons, "at": now}
    silenced = [int(r[0]) for r in conn.execute(queries["mark_devices_silent"], params)]
    if silenced:
        log.info("devices silent", extra={"devices": len(silenced)})
    return silenced


def _set_status(
    conn: Conn,
    *,
    serial: str,
    to: DeviceStatus,
    allowed_from: Iterable[DeviceStatus],
    actor: str,
    actor_id: UUID | None,
    reason: str,
    at: datetime,
    replaced_by: int | None = None,
) -> DeviceOverview:
    device = device_by_serial(conn, serial=serial)
    row = conn.execute(
        queries["set_device_status"],
        {
            "id": device.id,
            "to_status": to.value,
            "from_statuses": [s.value for s in allowed_from],
            "at": at,
            "actor": actor,
            "actor_id": actor_id,
            "reason": reason,
            "replaced_by": replaced_by,
        },
    ).fetchone()
    if row is None:
        current = device_by_serial(conn, serial=serial).status
        raise ConflictError(f"device {serial} is {current}; it cannot become {to.value}")
    log.info("device status", extra={"device_id": device.id, "from": row[0], "to": to.value})
    return device_overview(conn, serial=serial)


#: What an administrator may do to a device: the status it gets, and from which.
#: ``enable`` restores ``active``, or ``registered`` if it never sent a reading.
ACTIONS: dict[str, tuple[DeviceStatus | None, tuple[DeviceStatus, ...]]] = {
    "disable": (DeviceStatus.DISABLED, tuple(_IN_USE)),
    "enable": (None, (DeviceStatus.DISABLED,)),
    "retire": (DeviceStatus.RETIRED, (*_IN_USE, DeviceStatus.DISABLED)),
}


def change_status(
    conn: Conn,
    *,
    serial: str,
    action: str,
    actor: str,
    actor_id: UUID | None,
    reason: str,
    at: datetime,
) -> DeviceOverview:
    """Disable, enable or retire a device (:data:`ACTIONS`); ConflictError if it cannot."""
    to, allowed_from = ACTIONS[action]
    if to is None:
        activated = device_by_serial(conn, serial=serial).activated_at is not None
        to = DeviceStatus.ACTIVE if activated else DeviceStatus.REGISTERED
    return _set_status(
        conn,
        serial=serial,
        to=to,
        allowed_from=allowed_from,
        actor=actor,
        actor_id=actor_id,
        reason=reason,
        at=at,
    )


def replace_device(
    conn: Conn,
    *,
    serial: str,
    new_serial: str,
    gateway_id: str | None,
    actor: str,
    actor_id: UUID | None,
    at: datetime,
) -> tuple[DeviceOverview, DeviceOverview]:
    """Retire ``serial`` and register ``new_serial`` for the same patient and kind.

    The new device is on ``gateway_id`` (default: the old one's). The patient's
    readings, alerts and detector state belong to the patient, not the device,
    so charts and detectors run on across the swap. Returns (old, new).
    """
    old = device_by_serial(conn, serial=serial)
    if old.status == DeviceStatus.RETIRED:
        raise ConflictError(f"device {serial} is retired already")
    new = create_device(
        conn,
        serial=new_serial,
        kind=old.kind,
        gateway_id=gateway_id or old.gateway_id,
        patient_id=old.patient_id,
    )
    conn.execute(
        queries["insert_device_event"],
        {
            "device_id": new.id,
            "at": at,
            "from_status": None,
            "to_status": DeviceStatus.REGISTERED.value,
            "actor_id": actor_id,
            "actor": actor,
            "reason": f"replaces {serial}",
        },
    )
    retired = _set_status(
        conn,
        serial=serial,
        to=DeviceStatus.RETIRED,
        allowed_from=[*_IN_USE, DeviceStatus.DISABLED],
        actor=actor,
        actor_id=actor_id,
        reason=f"replaced by {new_serial}",
        at=at,
        replaced_by=new.id,
    )
    return retired, device_overview(conn, serial=new_serial)


def record_registration(
    conn: Conn, *, device: Device, actor: str, actor_id: UUID | None, at: datetime
) -> None:
    """The first event of a device registered through the admin API."""
    conn.execute(
        queries["insert_device_event"],
        {
            "device_id": device.id,
            "at": at,
            "from_status": None,
            "to_status": DeviceStatus.REGISTERED.value,
            "actor_id": actor_id,
            "actor": actor,
            "reason": "registered",
        },
    )


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """What the life cycle needs to know about one device."""

    id: int
    kind: DeviceKind
    status: DeviceStatus
    gateway_id: str
    patient_id: UUID
    activated_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DeviceKind(self.kind))
        object.__setattr__(self, "status", DeviceStatus(self.status))


def device_by_serial(conn: Conn, *, serial: str) -> DeviceKey:
    with conn.cursor(row_factory=class_row(DeviceKey)) as cur:
        row = cur.execute(queries["lifecycle_device_by_serial"], {"serial": serial}).fetchone()
    if row is None:
        raise NotFoundError(f"device {serial}")
    return row


def device_events(conn: Conn, *, serial: str) -> list[DeviceEvent]:
    """The device's status changes, oldest first."""
    device = device_by_serial(conn, serial=serial)
    with conn.cursor(row_factory=class_row(DeviceEvent)) as cur:
        return cur.execute(queries["device_events_of"], {"device_id": device.id}).fetchall()


def devices_overview(
    conn: Conn, *, patient_id: UUID | None = None, gateway_id: str | None = None
) -> list[DeviceOverview]:
    """The devices of a patient or of a gateway, newest registration first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            queries["devices_overview"], {"patient_id": patient_id, "gateway_id": gateway_id}
        ).fetchall()
    return [DeviceOverview(**{**row, "kind": DeviceKind(row["kind"])}) for row in rows]


def device_overview(conn: Conn, *, serial: str) -> DeviceOverview:
    device = device_by_serial(conn, serial=serial)
    return next(
        d for d in devices_overview(conn, patient_id=device.patient_id) if d.serial == serial
    )


def gateway_detail(conn: Conn, *, gateway_id: str) -> GatewayDetail:
    with conn.cursor(row_factory=class_row(GatewayDetail)) as cur:
        row = cur.execute(queries["gateway_detail"], {"id": gateway_id}).fetchone()
    if row is None:
        raise NotFoundError(f"gateway {gateway_id}")
    return row


def set_gateway_status(conn: Conn, *, gateway_id: str, enabled: bool, at: datetime) -> None:
    """Mark the gateway active or disabled (its readings refused with ``device_disabled``)."""
    params = {"id": gateway_id, "status": "active" if enabled else "disabled", "at": at}
    if conn.execute(queries["set_gateway_status"], params).fetchone() is None:
        raise NotFoundError(f"gateway {gateway_id}")


def registry_changed_at(conn: Conn) -> datetime | None:
    """The latest status change of any device or gateway."""
    row = conn.execute(queries["registry_changed_at"]).fetchone()
    return row[0] if row else None
