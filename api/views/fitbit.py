"""Fitbit: the connect link, the OAuth callback, status and revocation, the webhook.

``/api/v1/fitbit/callback`` and ``/api/v1/fitbit/webhook`` are called by a
browser coming back from Fitbit and by Fitbit itself: they take no bearer
token. The callback is bound to its patient by the signed, single-use
``state``; the webhook by Fitbit's signature (a bad one answers 404 and
queues nothing). With Fitbit not configured both answer 404.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.audit import audit_context
from api.deps import ConnDep, PatientIdDep, SettingsDep
from api.exceptions import ApiError, BadRequestError
from api.schemas_fitbit import FitbitConnectOut, FitbitStatusOut
from devices.fitbit import connect, webhook
from devices.fitbit import service as fitbit
from devices.fitbit.exceptions import (
    FitbitAuthError,
    FitbitError,
    FitbitRateLimitedError,
    FitbitStateError,
)
from hub.exceptions import NotFoundError
from hub.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1")


class FitbitNotConfiguredError(ApiError):
    status_code = status.HTTP_409_CONFLICT


class FitbitBadGatewayError(ApiError):
    status_code = status.HTTP_502_BAD_GATEWAY


def _enabled(settings: Settings) -> None:
    if not settings.fitbit_enabled:
        raise FitbitNotConfiguredError("fitbit_not_configured", "Fitbit is not configured")


def _fitbit_failed(exc: FitbitError) -> ApiError:
    if isinstance(exc, FitbitStateError):
        return BadRequestError("invalid_state", str(exc))
    if isinstance(exc, FitbitAuthError):
        return BadRequestError("fitbit_refused", str(exc))
    if isinstance(exc, FitbitRateLimitedError):
        return FitbitBadGatewayError("fitbit_rate_limited", str(exc))
    return FitbitBadGatewayError("fitbit_unavailable", str(exc))


@router.get("/patients/{patient_id}/fitbit/connect", response_model=FitbitConnectOut)
def fitbit_connect(
    patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep
) -> FitbitConnectOut:
    """The Fitbit authorize URL for this patient (open it in the patient's browser)."""
    _enabled(settings)
    url = connect.start(conn, settings, patient_id=patient_id, now=datetime.now(UTC))
    return FitbitConnectOut(authorize_url=url, expires_in_s=int(connect.STATE_TTL.total_seconds()))


@router.get("/patients/{patient_id}/fitbit", response_model=FitbitStatusOut)
def fitbit_status(
    patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep
) -> FitbitStatusOut:
    found = fitbit.get_connection(conn, patient_id=patient_id)
    if found is None:
        return FitbitStatusOut(enabled=settings.fitbit_enabled, status="not_connected")
    return FitbitStatusOut(
        enabled=settings.fitbit_enabled,
        status=found.status,
        fitbit_user_id=found.fitbit_user_id,
        device_id=found.device_id,
        connected_at=found.connected_at,
        pulled_through=found.pulled_through,
        next_pull_at=found.next_pull_at if found.status == "connected" else None,
        paused_until=found.paused_until,
        last_error=found.last_error,
    )


@router.delete("/patients/{patient_id}/fitbit", status_code=status.HTTP_204_NO_CONTENT)
def fitbit_disconnect(patient_id: PatientIdDep, conn: ConnDep, settings: SettingsDep) -> Response:
    """Revoke the patient's Fitbit grant at Fitbit and stop pulling (nothing connected: 204 too)."""
    if settings.fitbit_enabled:
        try:
            connect.disconnect(conn, settings, patient_id=patient_id, now=datetime.now(UTC))
        except FitbitError as exc:
            raise _fitbit_failed(exc) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/fitbit/callback", response_class=RedirectResponse, status_code=303)
def fitbit_callback(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=512)],
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> RedirectResponse:
    """Where Fitbit sends the browser back: finish the connection, then show the patient."""
    if not settings.fitbit_enabled:
        raise NotFoundError("Fitbit is not configured")
    now = datetime.now(UTC)
    try:
        patient_id = connect.patient_of_state(settings, state=state, now=now)
        audit_context(request).patient_id = patient_id
        if error is not None or code is None:  # the patient declined at Fitbit
            return RedirectResponse(f"/#patient/{patient_id}", status_code=303)
        connect.finish(conn, settings, code=code, state=state, now=now)
    except FitbitError as exc:
        raise _fitbit_failed(exc) from exc
    return RedirectResponse(f"/#patient/{patient_id}", status_code=303)


@router.get("/fitbit/webhook", status_code=status.HTTP_204_NO_CONTENT)
def fitbit_verify(
    settings: SettingsDep, verify: Annotated[str, Query(max_length=256)] = ""
) -> Response:
    """Fitbit's subscriber verification: 204 for the right code, 404 otherwise."""
    expected = settings.fitbit_verification_code.get_secret_value()
    if settings.fitbit_enabled and expected and hmac.compare_digest(verify, expected):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    raise NotFoundError("not a subscriber verification this hub expects")


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/fitbit/webhook", status_code=status.HTTP_204_NO_CONTENT)
def fitbit_notify(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    body: Annotated[bytes, Depends(_raw_body)],
) -> Response:
    """Fitbit's notifications: signature checked, then a pull queued per account and day."""
    secret = settings.fitbit_client_secret.get_secret_value()
    signature = request.headers.get("x-fitbit-signature")
    if not settings.fitbit_enabled or not webhook.signature_ok(secret, body, signature):
        log.warning("fitbit notification with a bad signature")
        raise NotFoundError("not a notification this hub expects")
    try:
        notifications = webhook.parse(body)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequestError("invalid_notification", str(exc)) from exc
    queued = webhook.accept(conn, notifications=notifications, now=datetime.now(UTC))
    log.info("fitbit notifications", extra={"count": len(notifications), "queued": queued})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
