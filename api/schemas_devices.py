"""Request and response bodies of the device life cycle and credential routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hub.domain import DeviceKind

DeviceStatusName = Literal["registered", "active", "silent", "retired", "disabled"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonIn(_Body):
    reason: str | None = Field(default=None, max_length=200, description="Kept in the history.")


class ReplaceIn(_Body):
    serial: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$", description="The new device's serial.")
    gateway_id: str | None = Field(
        default=None, description="The new device's gateway (default: the old device's)."
    )


class DeviceOverviewOut(BaseModel):
    """A device, its life cycle, its last report and its gateway's presence."""

    model_config = ConfigDict(from_attributes=True)

    serial: str
    kind: DeviceKind
    status: DeviceStatusName
    status_changed_at: datetime
    registered_at: datetime
    activated_at: datetime | None = Field(description="Its first accepted reading.")
    last_reading_at: datetime | None = Field(
        description="When its last accepted reading was received."
    )
    replaced_by: str | None = Field(description="The serial that replaced it, if retired so.")
    battery_percent: int | None
    firmware: str | None
    signal_dbm: int | None
    meta_reported_at: datetime | None = Field(description="When it reported the values above.")
    gateway_id: str
    gateway_status: Literal["active", "disabled"]
    presence: Literal["online", "offline"] | None = Field(
        description="The gateway's presence (status topic, Last Will); null if never told."
    )
    presence_at: datetime | None = Field(description="Since when the presence holds.")
    gateway_last_seen_at: datetime | None = Field(
        description="When the gateway's last accepted reading was received."
    )


class DeviceEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    from_status: DeviceStatusName | None
    to_status: DeviceStatusName
    actor: str
    reason: str


class DeviceDetailOut(DeviceOverviewOut):
    patient_id: UUID
    events: list[DeviceEventOut]


class ReplacedOut(BaseModel):
    retired: DeviceOverviewOut
    replacement: DeviceOverviewOut


class GatewayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    label: str | None
    status: Literal["active", "disabled"]
    created_at: datetime
    status_changed_at: datetime
    presence: Literal["online", "offline"] | None
    presence_at: datetime | None
    last_seen_at: datetime | None
    devices: list[DeviceOverviewOut]


class GatewayPasswordOut(BaseModel):
    id: str
    mqtt_username: str
    mqtt_password: str = Field(description="Shown once; the old password no longer works.")
    client_id: str
