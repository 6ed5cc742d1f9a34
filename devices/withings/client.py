"""Withings' web services: every call a form ``POST``, every answer ``{"status", "body"}``.

Withings answers HTTP 200 even to a failed call; the outcome is the JSON's
``status`` (``0`` success; the others by family in
:mod:`~devices.withings.status`), and a refusal comes as
``{"status": <n>, "error": "<why>"}``. The services used: ``/v2/oauth2``
(``action=requesttoken`` with the client id and secret in the form, and the
signed ``action=revoke``), ``/v2/signature`` (``action=getnonce``),
``/measure`` (``action=getmeas``) and ``/notify`` (``action=subscribe``),
the data ones with ``Authorization: Bearer``.

Signed calls, as Withings' "sign your requests" guide describes them
(https://developer.withings.com/developer-guide/v3/integration-guide/bulkship-sdk/get-access/sign-your-requests
and the ``signaturev2-getnonce`` and ``oauth2-revoke`` operations of
https://developer.withings.com/api-reference): first a nonce from
``/v2/signature`` (``action=getnonce``, ``client_id``, ``timestamp`` and a
``signature`` of those three), valid 30 minutes and good for one call; then
the call itself with ``action``, ``client_id``, ``nonce`` and a
``signature`` of those three. A signature is the HMAC-SHA256, keyed with the
client secret, of the signed parameters' values sorted by their names and
joined with commas (``action,client_id,nonce`` or
``action,client_id,timestamp``), in hexadecimal. The call's other parameters
(``userid``) are sent but not signed.

>>> signed = {"timestamp": "1700000000", "client_id": "abc", "action": "getnonce"}
>>> expected = hmac.new(b"secret", b"getnonce,abc,1700000000", hashlib.sha256).hexdigest()
>>> signature("secret", signed) == expected
True
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from devices.cloud.models import Tokens
from devices.withings.exceptions import WithingsUnavailableError
from devices.withings.status import status_error
from hub.settings import VendorSettings


def signature(secret: str, signed: Mapping[str, str]) -> str:
    """Withings' signature of ``signed``: HMAC-SHA256 over its values in key order, comma-joined."""
    data = ",".join(signed[name] for name in sorted(signed))
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


def post(
    config: VendorSettings, path: str, form: dict[str, str], *, access_token: str | None = None
) -> tuple[int, dict[str, Any]]:
    """``POST`` one service: its ``status`` and ``body`` (raises if Withings did not answer)."""
    headers = {} if access_token is None else {"Authorization": f"Bearer {access_token}"}
    try:
        response = requests.post(
            f"{config.api_url.rstrip('/')}{path}",
            data=form,
            headers=headers,
            timeout=config.timeout_s,
            verify=str(config.ca_file) if config.ca_file is not None else True,
        )
    except requests.RequestException as exc:
        raise WithingsUnavailableError(f"no answer from Withings: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise WithingsUnavailableError(f"Withings answered HTTP {response.status_code}")
    try:
        answer = response.json()
        status = int(answer["status"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WithingsUnavailableError("Withings answered something it does not document") from exc
    body = answer.get("body")
    if status == 0 and not isinstance(body, dict):
        raise WithingsUnavailableError("Withings answered without a body")
    return status, body if isinstance(body, dict) else {}


def call(
    config: VendorSettings,
    path: str,
    form: dict[str, str],
    *,
    access_token: str | None = None,
    token_call: bool = False,
) -> dict[str, Any]:
    """``POST`` one service; the answer's ``body`` (raises for a non-zero ``status``)."""
    status, body = post(config, path, form, access_token=access_token)
    if status != 0:
        raise status_error(status, token_call=token_call)
    return body


def nonce(config: VendorSettings, *, now: datetime) -> str:
    """A fresh nonce (``/v2/signature``, ``action=getnonce``) for one signed call."""
    signed = {
        "action": "getnonce",
        "client_id": config.client_id,
        "timestamp": str(int(now.timestamp())),
    }
    secret = config.client_secret.get_secret_value()
    body = call(config, "/v2/signature", {**signed, "signature": signature(secret, signed)})
    found = body.get("nonce")
    if not isinstance(found, str) or not found:
        raise WithingsUnavailableError("getnonce answered without a nonce")
    return found


def revoke_grant(config: VendorSettings, *, userid: str, now: datetime) -> int:
    """Ask Withings to end the app's access to ``userid`` (``/v2/oauth2``, ``action=revoke``).

    The answer's ``status`` (0: revoked). Withings then also ends the
    account's notification subscriptions.
    """
    signed = {"action": "revoke", "client_id": config.client_id, "nonce": nonce(config, now=now)}
    secret = config.client_secret.get_secret_value()
    form = {**signed, "signature": signature(secret, signed), "userid": userid}
    return post(config, "/v2/oauth2", form)[0]


def tokens_of(body: dict[str, Any], *, now: datetime) -> Tokens:
    """The tokens of a ``requesttoken`` answer's body."""
    try:
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=now + timedelta(seconds=int(body["expires_in"])),
            account_id=str(int(body["userid"])),
            scope=str(body.get("scope", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WithingsUnavailableError("Withings' token answer lacks a documented field") from exc
