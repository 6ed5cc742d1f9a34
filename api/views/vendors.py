"""Vendor clouds: the connect link, the OAuth callback, status and revocation, the webhook.

One set of routes per vendor of the registry (:mod:`devices.registry`),
under its name: ``/api/v1/patients/{patient_id}/<vendor>`` (status, ``DELETE``
revokes), ``.../<vendor>/connect``, ``/api/v1/<vendor>/callback`` and
``/api/v1/<vendor>/webhook``; and ``/api/v1/patients/{patient_id}/vendors``,
the patient's connection to every vendor (what the dashboard draws, so it
keeps no list of vendors of its own). The callback and the webhook are called by a
browser coming back from the vendor and by the vendor itself: they take no
bearer token. The callback is bound to its patient by the signed, single-use
``state``; the webhook by the vendor's signature or the hub's secret (a bad
one answers 404 and queues nothing). With the vendor not configured both
answer 404, and the connect link 409 ``<vendor>_not_configured``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.audit import audit_context
from api.deps import ConnDep, PatientIdDep, SettingsDep
from api.exceptions import ApiError, BadRequestError
from api.schemas_vendors import VendorConnectOut, VendorsOut, VendorStatusOut
from devices.adapters.exceptions import (
    VendorAuthError,
    VendorError,
    VendorRateLimitedError,
    VendorStateError,
)
from devices.cloud import connect, webhook
from devices.cloud import service as cloud
from devices.cloud.base import BadNotificationError, CloudVendor
from devices.registry import VENDORS
from hub.db import Conn
from hub.exceptions import NotFoundError
from hub.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1")


class VendorNotConfiguredError(ApiError):
    status_code = status.HTTP_409_CONFLICT


class VendorBadGatewayError(ApiError):
    status_code = status.HTTP_502_BAD_GATEWAY


def _failed(vendor: CloudVendor, exc: VendorError) -> ApiError:
    if isinstance(exc, VendorStateError):
        return BadRequestError("invalid_state", str(exc))
    if isinstance(exc, VendorAuthError):
        return BadRequestError(f"{vendor.name}_refused", str(exc))
    if isinstance(exc, VendorRateLimitedError):
        return VendorBadGatewayError(f"{vendor.name}_rate_limited", str(exc))
    return VendorBadGatewayError(f"{vendor.name}_unavailable", str(exc))


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _status(
    conn: Conn, settings: Settings, vendor: CloudVendor, patient_id: UUID
) -> VendorStatusOut:
    enabled = vendor.config(settings).enabled
    found = cloud.get_connection(conn, vendor=vendor.name, patient_id=patient_id)
    if found is None:
        return VendorStatusOut(
            vendor=vendor.name, label=vendor.label, enabled=enabled, status="not_connected"
        )
    return VendorStatusOut(
        vendor=vendor.name,
        label=vendor.label,
        enabled=enabled,
        status=found.status,
        account_id=found.account_id,
        device_id=found.device_id,
        connected_at=found.connected_at,
        pulled_through=found.pulled_through,
        next_pull_at=found.next_pull_at if found.status == "connected" else None,
        paused_until=found.paused_until,
        last_error=found.last_error,
    )


@router.get("/patients/{patient_id}/vendors", response_model=VendorsOut)
def patient_vendors(patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep) -> VendorsOut:
    """The patient's connection to each vendor cloud of the hub."""
    return VendorsOut(
        vendors=[_status(conn, settings, vendor, patient_id) for vendor in VENDORS.values()]
    )


def _add_routes(vendor: CloudVendor) -> None:
    name, label = vendor.name, vendor.label

    def enabled(settings: Settings) -> bool:
        return vendor.config(settings).enabled

    def connect_link(
        patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep
    ) -> VendorConnectOut:
        if not enabled(settings):
            raise VendorNotConfiguredError(f"{name}_not_configured", f"{label} is not configured")
        url = connect.start(conn, settings, vendor, patient_id=patient_id, now=datetime.now(UTC))
        return VendorConnectOut(
            authorize_url=url, expires_in_s=int(connect.STATE_TTL.total_seconds())
        )

    def connection_status(
        patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep
    ) -> VendorStatusOut:
        return _status(conn, settings, vendor, patient_id)

    def disconnect(patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep) -> Response:
        if enabled(settings):
            try:
                connect.disconnect(
                    conn, settings, vendor, patient_id=patient_id, now=datetime.now(UTC)
                )
            except VendorError as exc:
                raise _failed(vendor, exc) from exc
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    def callback(
        request: Request,
        conn: ConnDep,
        settings: SettingsDep,
        state: Annotated[str, Query(max_length=512)],
        code: Annotated[str | None, Query(max_length=2048)] = None,
        error: Annotated[str | None, Query(max_length=256)] = None,
    ) -> RedirectResponse:
        if not enabled(settings):
            raise NotFoundError(f"{label} is not configured")
        now = datetime.now(UTC)
        try:
            patient_id = connect.patient_of_state(settings, vendor, state=state, now=now)
            audit_context(request).patient_id = patient_id
            if error is None and code is not None:  # else the patient declined at the vendor
                connect.finish(conn, settings, vendor, code=code, state=state, now=now)
        except VendorError as exc:
            raise _failed(vendor, exc) from exc
        return RedirectResponse(f"/#patient/{patient_id}", status_code=303)

    def verify(request: Request, settings: SettingsDep) -> Response:
        query = dict(request.query_params)
        if enabled(settings) and vendor.verify_subscriber(vendor.config(settings), query):
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        raise NotFoundError("not a subscriber verification this hub expects")

    def notify(
        request: Request,
        conn: ConnDep,
        settings: SettingsDep,
        body: Annotated[bytes, Depends(_raw_body)],
    ) -> Response:
        if not enabled(settings):
            raise NotFoundError("not a notification this hub expects")
        try:
            notifications = vendor.notifications(
                vendor.config(settings),
                body=body,
                headers=request.headers,
                query=dict(request.query_params),
            )
        except BadNotificationError as exc:
            log.warning("vendor notification not authenticated", extra={"vendor": name})
            raise NotFoundError("not a notification this hub expects") from exc
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise BadRequestError("invalid_notification", str(exc)) from exc
        queued = webhook.accept(
            conn, vendor=name, notifications=notifications, now=datetime.now(UTC)
        )
        log.info(
            "vendor notifications",
            extra={"vendor": name, "count": len(notifications), "queued": queued},
        )
        return Response(status_code=vendor.notify_status)

    routes: list[tuple[str, Callable[..., Any], str, dict[str, Any]]] = [
        (
            f"/patients/{{patient_id}}/{name}/connect",
            connect_link,
            "GET",
            {"response_model": VendorConnectOut},
        ),
        (f"/patients/{{patient_id}}/{name}", connection_status, "GET", {}),
        (f"/patients/{{patient_id}}/{name}", disconnect, "DELETE", {"status_code": 204}),
        (
            f"/{name}/callback",
            callback,
            "GET",
            {"response_class": RedirectResponse, "status_code": 303},
        ),
        (f"/{name}/webhook", verify, "GET", {"status_code": 204}),
        (f"/{name}/webhook", notify, "POST", {"status_code": vendor.notify_status}),
    ]
    for path, endpoint, method, extra in routes:
        endpoint.__doc__ = f"{label}: {endpoint.__name__.replace('_', ' ')}."
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            name=f"{name}_{endpoint.__name__}",
            operation_id=f"{name}_{endpoint.__name__}",
            **extra,
        )


for _vendor in VENDORS.values():
    _add_routes(_vendor)
