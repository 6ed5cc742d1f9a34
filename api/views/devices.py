"""Devices and gateways after provisioning: life cycle, presence, credentials.

Coordinators see their patients' devices (``GET /patients/{id}/devices``);
everything else here is for admins: retire, replace, disable and enable a
device; rotate a gateway's MQTT password, disable and enable the gateway.
Every request is audited by the middleware; these routes name the object
they act on in the audit row's action (``device.retire SC-1``), and a
device's patient in its patient column.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.audit import audit_context
from api.deps import AdminDep, ConnDep, CurrentUserDep, PatientIdDep, SettingsDep
from api.schemas_devices import (
    DeviceDetailOut,
    DeviceEventOut,
    DeviceOverviewOut,
    GatewayOut,
    GatewayPasswordOut,
    ReasonIn,
    ReplacedOut,
    ReplaceIn,
)
from devices import lifecycle
from devices.credentials import rotate_gateway_password, set_gateway_enabled
from devices.models import DeviceOverview
from hub.db import Conn
from hub.exceptions import NotFoundError

router = APIRouter(prefix="/api/v1")
admin = APIRouter(prefix="/api/v1", dependencies=[AdminDep])

#: Path parameters, checked before a route runs (and before the audit row names them).
Serial = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
GatewayId = Annotated[str, Path(pattern=r"^gw-[a-z0-9]{8,40}$")]


def _out(device: DeviceOverview) -> DeviceOverviewOut:
    return DeviceOverviewOut.model_validate(device)


@router.get("/patients/{patient_id}/devices", response_model=list[DeviceOverviewOut])
def patient_devices(patient_id: PatientIdDep, conn: ConnDep) -> list[DeviceOverviewOut]:
    """The patient's devices, retired ones included, newest registration first."""
    return [_out(d) for d in lifecycle.devices_overview(conn, patient_id=patient_id)]


def _audit(request: Request, conn: Conn, action: str, serial: str) -> None:
    """Name the device in the audit row, and its patient if it exists."""
    context = audit_context(request)
    context.action = f"{action} {serial}"
    with contextlib.suppress(NotFoundError):  # answered 404 by the route
        context.patient_id = lifecycle.device_by_serial(conn, serial=serial).patient_id


@admin.get("/devices/{serial}", response_model=DeviceDetailOut)
def get_device(serial: Serial, conn: ConnDep, request: Request) -> DeviceDetailOut:
    """A device with its status history."""
    _audit(request, conn, "device.read", serial)
    device = lifecycle.device_overview(conn, serial=serial)
    history = lifecycle.device_events(conn, serial=serial)
    events = [DeviceEventOut.model_validate(e) for e in history]
    return DeviceDetailOut(**_out(device).model_dump(), patient_id=device.patient_id, events=events)


def _status_route(action: str, doc: str) -> None:
    def change(
        serial: Serial,
        conn: ConnDep,
        principal: CurrentUserDep,
        request: Request,
        body: ReasonIn | None = None,
    ) -> DeviceOverviewOut:
        _audit(request, conn, f"device.{action}", serial)
        device = lifecycle.change_status(
            conn,
            serial=serial,
            action=action,
            actor=principal.username,
            actor_id=principal.user_id,
            reason=(body.reason if body else None) or f"{action} by an admin",
            at=datetime.now(UTC),
        )
        return _out(device)

    change.__doc__ = doc
    admin.add_api_route(
        f"/devices/{{serial}}/{action}",
        change,
        methods=["POST"],
        response_model=DeviceOverviewOut,
        name=f"{action}_device",
    )


_status_route(
    "retire", "Take a device out of use for good; its readings are refused (``device_retired``)."
)
_status_route("disable", "Refuse the device's readings (``device_disabled``) until enabled.")
_status_route("enable", "Accept the device's readings again.")


@admin.post("/devices/{serial}/replace", response_model=ReplacedOut)
def replace_device(
    serial: Serial, body: ReplaceIn, conn: ConnDep, principal: CurrentUserDep, request: Request
) -> ReplacedOut:
    """Retire the device and register ``serial`` for the same patient and kind."""
    _audit(request, conn, "device.replace", serial)
    old, new = lifecycle.replace_device(
        conn,
        serial=serial,
        new_serial=body.serial,
        gateway_id=body.gateway_id,
        actor=principal.username,
        actor_id=principal.user_id,
        at=datetime.now(UTC),
    )
    return ReplacedOut(retired=_out(old), replacement=_out(new))


def _gateway_out(conn: Conn, gateway_id: str) -> GatewayOut:
    gateway = lifecycle.gateway_detail(conn, gateway_id=gateway_id)
    devices = lifecycle.devices_overview(conn, gateway_id=gateway_id)
    return GatewayOut.model_validate({**asdict(gateway), "devices": [_out(d) for d in devices]})


@admin.get("/gateways/{gateway_id}", response_model=GatewayOut)
def get_gateway(gateway_id: GatewayId, conn: ConnDep, request: Request) -> GatewayOut:
    """A gateway's status, presence, last-seen time and devices."""
    audit_context(request).action = f"gateway.read {gateway_id}"
    return _gateway_out(conn, gateway_id)


@admin.post("/gateways/{gateway_id}/password", response_model=GatewayPasswordOut)
def rotate_password(
    gateway_id: GatewayId, conn: ConnDep, settings: SettingsDep, request: Request
) -> GatewayPasswordOut:
    """A new MQTT password, shown once; the old one stops working and its session ends."""
    audit_context(request).action = f"gateway.rotate_password {gateway_id}"
    lifecycle.gateway_detail(conn, gateway_id=gateway_id)  # 404 for no such gateway
    password = rotate_gateway_password(settings, gateway_id=gateway_id)
    return GatewayPasswordOut(
        id=gateway_id, mqtt_username=gateway_id, mqtt_password=password, client_id=gateway_id
    )


def _set_enabled(
    conn: Conn, settings: SettingsDep, request: Request, gateway_id: str, *, enabled: bool
) -> GatewayOut:
    audit_context(request).action = f"gateway.{'enable' if enabled else 'disable'} {gateway_id}"
    lifecycle.set_gateway_status(conn, gateway_id=gateway_id, enabled=enabled, at=datetime.now(UTC))
    # The broker last: should it fail, the status change is rolled back.
    set_gateway_enabled(settings, gateway_id=gateway_id, enabled=enabled)
    return _gateway_out(conn, gateway_id)


@admin.post("/gateways/{gateway_id}/disable", response_model=GatewayOut)
def disable_gateway(
    gateway_id: GatewayId, conn: ConnDep, settings: SettingsDep, request: Request
) -> GatewayOut:
    """The gateway can no longer connect (its session ends); readings still queued for
    it at the broker are refused with ``device_disabled``."""
    return _set_enabled(conn, settings, request, gateway_id, enabled=False)


@admin.post("/gateways/{gateway_id}/enable", response_model=GatewayOut)
def enable_gateway(
    gateway_id: GatewayId, conn: ConnDep, settings: SettingsDep, request: Request
) -> GatewayOut:
    """The gateway may connect and send again."""
    return _set_enabled(conn, settings, request, gateway_id, enabled=True)
