"""Connecting a patient's Fitbit account: the connect link and the OAuth callback.

:func:`start` hands out the authorize URL with a signed ``state`` bound to
the patient (valid :data:`STATE_TTL`, single use). :func:`finish` checks the
state, trades the code for tokens (PKCE), registers the account as a device
(kind ``multi``, serial ``fitbit-<user id>``) on the Fitbit vendor gateway,
stores the tokens encrypted and subscribes the account's collections.
:func:`disconnect` revokes the grant at Fitbit and forgets the tokens.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from devices import service as devices
from devices.adapters.gateway import ensure_vendor_gateway
from devices.fitbit import oauth
from devices.fitbit import service as fitbit
from devices.fitbit.client import FitbitApi
from devices.fitbit.convert import VENDOR, FitbitAdapter
from devices.fitbit.crypto import TokenBox
from devices.fitbit.exceptions import FitbitError, FitbitStateError
from devices.fitbit.models import COLLECTIONS, Tokens
from hub.db import Conn
from hub.domain import DeviceKind
from hub.exceptions import ConflictError
from hub.settings import Settings

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=15)


def _box(settings: Settings) -> TokenBox:
    return TokenBox(settings.fitbit_token_key.get_secret_value())


def start(conn: Conn, settings: Settings, *, patient_id: UUID, now: datetime) -> str:
    """The Fitbit authorize URL for this patient (records the pending authorization)."""
    box = _box(settings)
    nonce = secrets.token_urlsafe(18)
    expires_at = now + STATE_TTL
    fitbit.add_state(conn, nonce=nonce, patient_id=patient_id, expires_at=expires_at)
    state = box.sign_state(patient_id=patient_id, nonce=nonce, expires_at=expires_at)
    return oauth.authorize_url(settings, state=state, code_verifier=box.code_verifier(nonce))


def patient_of_state(settings: Settings, *, state: str, now: datetime) -> UUID:
    """The patient a state was signed for (raises :class:`FitbitStateError`)."""
    try:
        return _box(settings).verify_state(state, now=now)[0]
    except ValueError as exc:
        raise FitbitStateError("state is malformed") from exc


def finish(conn: Conn, settings: Settings, *, code: str, state: str, now: datetime) -> UUID:
    """Complete the authorization the callback reports; the patient's id."""
    box = _box(settings)
    try:
        patient_id, nonce = box.verify_state(state, now=now)
    except ValueError as exc:
        raise FitbitStateError("state is malformed") from exc
    if not fitbit.take_state(conn, nonce=nonce, patient_id=patient_id, now=now):
        raise FitbitStateError("state was used already or has expired")
    tokens = oauth.exchange_code(
        settings, code=code, code_verifier=box.code_verifier(nonce), now=now
    )
    adapter = FitbitAdapter()
    ensure_vendor_gateway(conn, gateway_id=adapter.gateway_id, vendor=VENDOR)
    serial = adapter.serial(tokens.user_id)
    found = fitbit.device_of_serial(conn, serial=serial)
    if found is None:
        device_id = devices.create_device(
            conn,
            serial=serial,
            kind=DeviceKind.MULTI,
            gateway_id=adapter.gateway_id,
            patient_id=patient_id,
        ).id
    elif found[1] != patient_id:
        raise ConflictError("this Fitbit account is connected to another patient")
    else:
        device_id = found[0]
    fitbit.save_connection(
        conn,
        patient_id=patient_id,
        fitbit_user_id=tokens.user_id,
        device_id=device_id,
        tokens=box.seal(tokens, patient_id=patient_id),
        expires_at=tokens.expires_at,
        scope=tokens.scope,
        now=now,
    )
    _subscribe(settings, tokens=tokens, device_id=device_id, patient_id=patient_id)
    log.info("fitbit connected", extra={"patient_id": str(patient_id), "device_id": device_id})
    return patient_id


def _subscribe(settings: Settings, *, tokens: Tokens, device_id: int, patient_id: UUID) -> None:
    """Subscribe the account's collections; without them the periodic pull still runs."""
    api = FitbitApi(settings, access_token=tokens.access_token)
    for collection in COLLECTIONS:
        try:
            api.subscribe(collection, f"lastmile-{device_id}")
        except FitbitError as exc:
            log.warning(
                "fitbit subscription failed",
                extra={
                    "patient_id": str(patient_id),
                    "collection": collection,
                    "error": type(exc).__name__,
                },
            )


def disconnect(conn: Conn, settings: Settings, *, patient_id: UUID, now: datetime) -> bool:
    """Revoke the grant at Fitbit and mark the connection ``disconnected``.

    False if the patient had no connected account. Raises a
    :class:`FitbitError` (and changes nothing) if Fitbit could not be asked.
    """
    row = fitbit.lock_connection(conn, patient_id=patient_id)
    if row is None or row["status"] != "connected" or row["tokens"] is None:
        return False
    tokens = _box(settings).open(bytes(row["tokens"]), patient_id=patient_id)
    oauth.revoke(settings, tokens=tokens)
    fitbit.end_connection(
        conn, patient_id=patient_id, status="disconnected", reason="disconnected", now=now
    )
    log.info("fitbit disconnected", extra={"patient_id": str(patient_id)})
    return True
