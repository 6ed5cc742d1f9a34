"""Types of the device registry."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    #: ``patient_id`` as text, as the scoring process is sent it; made once per route.
    patient_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "patient_key", str(self.patient_id))

    @property
    def accepts_readings(self) -> bool:
        return self.status not in ("disabled", "retired") and self.gateway_status == "active"
