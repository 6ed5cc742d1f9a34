"""Connecting a patient's account at a vendor: the connect link, the OAuth callback, revocation.

:func:`start` hands out the vendor's authorize URL with a signed ``state``
bound to the patient (valid :data:`STATE_TTL`, single use). :func:`finish`
checks the state, trades the code for tokens (PKCE), registers the account as
a device (kind ``multi``, the adapter's serial) on the vendor's gateway,
stores the tokens sealed and subscribes the account's notifications.
:func:`disconnect` revokes the grant at the vendor and forgets the tokens.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from devices import service as devices
from devices.adapters.exceptions import VendorError, VendorStateError
from devices.adapters.gateway import ensure_vendor_gateway
from devices.cloud import service as cloud
from devices.cloud.base import CloudVendor
from devices.cloud.sealing import TokenBox
from hub.db import Conn
from hub.domain import DeviceKind
from hub.exceptions import ConflictError
from hub.settings import Settings

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=15)


def box_of(vendor: CloudVendor, settings: Settings) -> TokenBox:
    """The vendor's sealer (its own key)."""
    return TokenBox(vendor.config(settings).token_key.get_secret_value(), vendor=vendor.name)


def start(
    conn: Conn, settings: Settings, vendor: CloudVendor, *, patient_id: UUID, now: datetime
) -> str:
    """The vendor's authorize URL for this patient (records the pending authorization)."""
    box = box_of(vendor, settings)
    nonce = secrets.token_urlsafe(18)
    expires_at = now + STATE_TTL
    cloud.add_state(
        conn, vendor=vendor.name, nonce=nonce, patient_id=patient_id, expires_at=expires_at
    )
    state = box.sign_state(patient_id=patient_id, nonce=nonce, expires_at=expires_at)
    return vendor.authorize_url(
        vendor.config(settings), state=state, code_verifier=box.code_verifier(nonce)
    )


def patient_of_state(settings: Settings, vendor: CloudVendor, *, state: str, now: datetime) -> UUID:
    """The patient a state was signed for (raises :class:`VendorStateError`)."""
    return box_of(vendor, settings).verify_state(state, now=now)[0]


def finish(
    conn: Conn, settings: Settings, vendor: CloudVendor, *, code: str, state: str, now: datetime
) -> UUID:
    """Complete the authorization the callback reports; the patient's id."""
    box = box_of(vendor, settings)
    config = vendor.config(settings)
    patient_id, nonce = box.verify_state(state, now=now)
    if not cloud.take_state(conn, vendor=vendor.name, nonce=nonce, patient_id=patient_id, now=now):
        raise VendorStateError("state was used already or has expired")
    tokens = vendor.exchange_code(
        config, code=code, code_verifier=box.code_verifier(nonce), now=now
    )
    adapter = vendor.adapter
    ensure_vendor_gateway(conn, gateway_id=adapter.gateway_id, vendor=vendor.name)
    serial = adapter.serial(tokens.account_id)
    found = cloud.device_of_serial(conn, serial=serial)
    if found is None:
        device_id = devices.create_device(
            conn,
            serial=serial,
            kind=DeviceKind.MULTI,
            gateway_id=adapter.gateway_id,
            patient_id=patient_id,
        ).id
    elif found[1] != patient_id:
        raise ConflictError(f"this {vendor.label} account is connected to another patient")
    else:
        device_id = found[0]
    cloud.save_connection(
        conn,
        vendor=vendor.name,
        patient_id=patient_id,
        account_id=tokens.account_id,
        device_id=device_id,
        tokens=box.seal(tokens, patient_id=patient_id),
        expires_at=tokens.expires_at,
        scope=tokens.scope,
        now=now,
    )
    try:  # without subscriptions the periodic pull still runs
        vendor.subscribe(config, tokens=tokens, device_id=device_id)
    except VendorError as exc:
        log.warning(
            "vendor subscription failed",
            extra={
                "vendor": vendor.name,
                "patient_id": str(patient_id),
                "error": type(exc).__name__,
            },
        )
    log.info(
        "vendor connected",
        extra={"vendor": vendor.name, "patient_id": str(patient_id), "device_id": device_id},
    )
    return patient_id


def disconnect(
    conn: Conn, settings: Settings, vendor: CloudVendor, *, patient_id: UUID, now: datetime
) -> bool:
    """Revoke the grant at the vendor and mark the connection ``disconnected``.

    False if the patient had no connected account. Raises a
    :class:`VendorError` (and changes nothing) if the vendor could not be asked.
    """
    row = cloud.lock_connection(conn, vendor=vendor.name, patient_id=patient_id)
    if row is None or row["status"] != "connected" or row["tokens"] is None:
        return False
    tokens = box_of(vendor, settings).open(bytes(row["tokens"]), patient_id=patient_id)
    vendor.revoke(vendor.config(settings), tokens=tokens)
    cloud.end_connection(
        conn,
        vendor=vendor.name,
        patient_id=patient_id,
        status="disconnected",
        reason="disconnected",
        now=now,
    )
    log.info("vendor disconnected", extra={"vendor": vendor.name, "patient_id": str(patient_id)})
    return True
