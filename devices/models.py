"""Types of the device registry."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hub.domain import DeviceKind


@dataclass(frozen=True, slots=True)
class Gateway:
    id: str
    label: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PharmacyFeed:
    """A pharmacy's dispense feed over MQTT; its id is its MQTT username and client id."""

    id: str
    label: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    serial: str
    kind: DeviceKind
    gateway_id: str
    patient_id: UUID
    status: str
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceRoute:
    """What ingest needs to know about a serial to accept its readings."""

    serial: str
    id: int
    kind: DeviceKind
    gateway_id: str
    patient_id: UUID
    status: str
    gateway_status: str

    @property
    def accepts_readings(self) -> bool:
        return self.status not in ("disabled", "retired") and self.gateway_status == "active"


class DeviceStatus(enum.StrEnum):
    """Where a device is in its life cycle (see docs/devices.md).

    ``registered`` until its first accepted reading, then ``active``;
    ``silent`` while it sends nothing for longer than its patient's schedule
    allows (back to ``active`` with the next accepted reading); ``retired``
    for good (replaced or returned); ``disabled`` by an administrator until
    enabled again. Readings from a retired or disabled device are refused.
    """

    REGISTERED = "registered"
    ACTIVE = "active"
    SILENT = "silent"
    RETIRED = "retired"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One status change of a device; ``actor`` is a user name or the part of the hub."""

    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeviceOverview:
    """A device as the patient page and the admin API show it."""

    serial: str
    kind: DeviceKind
    status: str
    status_changed_at: datetime
    registered_at: datetime
    activated_at: datetime | None
    last_reading_at: datetime | None
    replaced_by: str | None
    gateway_id: str
    gateway_status: str
    presence: str | None
    presence_at: datetime | None
    gateway_last_seen_at: datetime | None
    battery_percent: int | None
    firmware: str | None
    signal_dbm: int | None
    meta_reported_at: datetime | None
    meta_received_at: datetime | None
    patient_id: UUID


@dataclass(frozen=True, slots=True)
class GatewayDetail:
    """A gateway's status, presence and last-seen time."""

    id: str
    label: str | None
    status: str
    created_at: datetime
    last_seen_at: datetime | None
    presence: str | None
    presence_at: datetime | None
    status_changed_at: datetime
