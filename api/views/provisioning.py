"""Provisioning (admins only): gateways and pharmacy feeds with their credentials, devices."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, status

from api.deps import AdminDep, ConnDep, CurrentUserDep, SettingsDep
from api.schemas import (
    DeviceIn,
    DeviceOut,
    FeedCreated,
    FeedIn,
    GatewayCreated,
    GatewayIn,
)
from devices import feeds
from devices import service as devices
from devices.credentials import provision_feed_credentials, provision_gateway_credentials
from devices.lifecycle import record_registration
from hub import patients
from hub.topics import (
    dispenses_topic,
    errors_topic,
    feed_errors_topic,
    readings_topic,
    status_topic,
)

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep])


@router.post("/gateways", status_code=status.HTTP_201_CREATED, response_model=GatewayCreated)
def provision_gateway(body: GatewayIn, conn: ConnDep, settings: SettingsDep) -> GatewayCreated:
    gateway_id = devices.new_gateway_id()
    password = secrets.token_urlsafe(24)
    gateway = devices.create_gateway(conn, gateway_id=gateway_id, label=body.label)
    # The broker learns the credentials before the row commits; if the commit
    # fails the client exists without a gateway and cannot publish anything
    # the worker would accept.
    provision_gateway_credentials(settings, gateway_id=gateway_id, password=password)
    return GatewayCreated(
        id=gateway.id,
        label=gateway.label,
        mqtt_username=gateway.id,
        mqtt_password=password,
        client_id=gateway.id,
        readings_topic=readings_topic(gateway.id, "{device_serial}"),
        errors_topic=errors_topic(gateway.id),
        status_topic=status_topic(gateway.id),
    )


@router.post("/pharmacy/feeds", status_code=status.HTTP_201_CREATED, response_model=FeedCreated)
def provision_feed(body: FeedIn, conn: ConnDep, settings: SettingsDep) -> FeedCreated:
    """A pharmacy feed for dispenses over MQTT: its credentials, shown once."""
    feed = feeds.create_feed(conn, feed_id=feeds.new_feed_id(), label=body.label)
    password = secrets.token_urlsafe(24)
    # As for a gateway: credentials without a committed feed publish nothing
    # the worker stores (its dispenses are rejected as unknown_feed).
    provision_feed_credentials(settings, feed_id=feed.id, password=password)
    return FeedCreated(
        id=feed.id,
        label=feed.label,
        mqtt_username=feed.id,
        mqtt_password=password,
        client_id=feed.id,
        dispenses_topic=dispenses_topic(feed.id),
        errors_topic=feed_errors_topic(feed.id),
    )


@router.post("/devices", status_code=status.HTTP_201_CREATED, response_model=DeviceOut)
def register_device(body: DeviceIn, conn: ConnDep, principal: CurrentUserDep) -> DeviceOut:
    devices.get_gateway(conn, gateway_id=body.gateway_id)
    patients.get_patient(conn, patient_id=body.patient_id)
    device = devices.create_device(
        conn,
        serial=body.serial,
        kind=body.kind,
        gateway_id=body.gateway_id,
        patient_id=body.patient_id,
    )
    record_registration(
        conn,
        device=device,
        actor=principal.username,
        actor_id=principal.user_id,
        at=device.registered_at,
    )
    return DeviceOut(
        id=device.id,
        serial=device.serial,
        kind=device.kind,
        gateway_id=device.gateway_id,
        patient_id=device.patient_id,
        status=device.status,
        registered_at=device.registered_at,
        readings_topic=readings_topic(device.gateway_id, device.serial),
    )
