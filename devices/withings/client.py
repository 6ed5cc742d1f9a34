"""Withings' web services: every call a form ``POST``, every answer ``{"status", "body"}``.

Withings answers HTTP 200 even to a failed call; the outcome is the JSON's
``status``: ``0`` is success, ``401`` an access token that is no longer valid,
``601`` too many requests (an app may make 120 requests a minute), the rest
invalid parameters or an error on their side (see Withings' "Response status"
table). The services used: ``/v2/oauth2`` (``action=requesttoken``, with the
client id and secret in the form), ``/measure`` (``action=getmeas``) and
``/notify`` (``action=subscribe`` / ``revoke``), with ``Authorization: Bearer``.

>>> status_error(601, token_call=False).__class__.__name__
'WithingsRateLimitedError'
>>> status_error(401, token_call=False).__class__.__name__
'WithingsExpiredTokenError'
>>> status_error(503, token_call=True).__class__.__name__
'WithingsAuthError'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests

from devices.cloud.models import Tokens
from devices.withings.exceptions import (
    WithingsAuthError,
    WithingsError,
    WithingsExpiredTokenError,
    WithingsRateLimitedError,
    WithingsUnavailableError,
)
from hub.settings import VendorSettings

#: Status 601: the limit is per minute; wait that long before asking again.
RATE_LIMIT_WAIT_S = 60
#: Statuses Withings documents as "An error occurred" or a timeout on its side.
_SERVER_SIDE = frozenset({215, 219, 222, 224, 226, 237, 253, 289, 522, 2554, 6000, 9000})


def status_error(status: int, *, token_call: bool) -> WithingsError:
    """The hub's exception for a non-zero Withings ``status``."""
    if status == 601:
        return WithingsRateLimitedError(RATE_LIMIT_WAIT_S)
    if status in _SERVER_SIDE or 5000 <= status < 6100:
        return WithingsUnavailableError(f"Withings answered status {status}")
    if token_call:  # a refused code or refresh token: the grant is gone
        return WithingsAuthError(f"Withings refused the grant (status {status})")
    if status == 401:
        return WithingsExpiredTokenError("access token no longer valid")
    return WithingsUnavailableError(f"Withings answered status {status}")


def call(
    config: VendorSettings,
    path: str,
    form: dict[str, str],
    *,
    access_token: str | None = None,
    token_call: bool = False,
) -> dict[str, Any]:
    """``POST`` one service; the answer's ``body`` (raises for a non-zero ``status``)."""
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
    if status != 0:
        raise status_error(status, token_call=token_call)
    body = answer.get("body")
    if not isinstance(body, dict):
        raise WithingsUnavailableError("Withings answered without a body")
    return body


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
