"""The OAuth 2.0 authorization-code flow with PKCE, refresh and revocation.

Fitbit's token endpoint wants HTTP Basic authentication with the app's
client id and secret; access tokens live 8 hours and a refresh token is
single-use (each refresh returns a new pair). Tokens are never logged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from oauthlib.oauth2 import OAuth2Error
from requests.auth import HTTPBasicAuth

from devices.cloud.models import Tokens
from devices.cloud.sealing import code_challenge
from devices.fitbit.client import OAuthClient, raise_for_fitbit, retry_after
from devices.fitbit.exceptions import (
    FitbitAuthError,
    FitbitRateLimitedError,
    FitbitUnavailableError,
)
from devices.fitbit.models import SCOPES
from hub.settings import VendorSettings


def authorize_url(config: VendorSettings, *, state: str, code_verifier: str) -> str:
    """Where to send the patient's browser to grant access (Fitbit's consent page)."""
    client = OAuthClient(config)
    url, _ = client.authorize_token_url(
        scope=list(SCOPES),
        state=state,
        code_challenge=code_challenge(code_verifier),
        code_challenge_method="S256",
    )
    return str(url)


def _basic(config: VendorSettings) -> HTTPBasicAuth:
    return HTTPBasicAuth(config.client_id, config.client_secret.get_secret_value())


def _rate_limit_hook(response: requests.Response) -> requests.Response:
    if response.status_code == 429:
        raise FitbitRateLimitedError(retry_after(response))
    return response


def _tokens(answer: dict[str, Any], *, now: datetime) -> Tokens:
    try:
        return Tokens(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]),
            expires_at=now + timedelta(seconds=int(answer["expires_in"])),
            account_id=str(answer["user_id"]),
            scope=" ".join(answer.get("scope", []))
            if isinstance(answer.get("scope"), list)
            else str(answer.get("scope", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FitbitUnavailableError("Fitbit's token answer lacks a documented field") from exc


def _token_call(call: Any) -> dict[str, Any]:
    try:
        answer = call()
    except FitbitRateLimitedError:
        raise
    except OAuth2Error as exc:
        if exc.error in ("invalid_grant", "invalid_token"):
            raise FitbitAuthError(f"Fitbit refused the grant ({exc.error})") from exc
        raise FitbitUnavailableError(f"Fitbit's token endpoint answered {exc.error}") from exc
    except requests.RequestException as exc:
        raise FitbitUnavailableError(f"no answer from Fitbit: {type(exc).__name__}") from exc
    except ValueError as exc:  # a body that is not JSON (a 5xx page)
        raise FitbitUnavailableError("Fitbit's token endpoint answered something else") from exc
    return dict(answer)


def _token_client(config: VendorSettings) -> tuple[OAuthClient, dict[str, Any]]:
    """A client whose token calls raise on 429, and the arguments every token call takes."""
    client = OAuthClient(config)
    for hook in ("access_token_response", "refresh_token_response"):
        client.session.register_compliance_hook(hook, _rate_limit_hook)
    common = {"auth": _basic(config), "timeout": config.timeout_s}
    return client, {**common, "verify": client.verify}


def exchange_code(
    config: VendorSettings, *, code: str, code_verifier: str, now: datetime
) -> Tokens:
    """Trade the callback's authorization code (and the PKCE verifier) for tokens."""
    client, common = _token_client(config)
    session, url = client.session, client.access_token_url
    answer = _token_call(
        lambda: session.fetch_token(
            url, code=code, code_verifier=code_verifier, include_client_id=True, **common
        )
    )
    return _tokens(answer, now=now)


def refresh(config: VendorSettings, *, tokens: Tokens, now: datetime) -> Tokens:
    """A new token pair; the old refresh token is spent once Fitbit answered."""
    client, common = _token_client(config)
    session, url = client.session, client.refresh_token_url
    answer = _token_call(
        lambda: session.refresh_token(url, refresh_token=tokens.refresh_token, **common)
    )
    answer.setdefault("user_id", tokens.account_id)
    return _tokens(answer, now=now)


def revoke(config: VendorSettings, *, tokens: Tokens) -> None:
    """Revoke the account's grant at Fitbit (``POST /oauth2/revoke``).

    A token Fitbit no longer knows counts as revoked already.
    """
    client, common = _token_client(config)
    try:
        response = client.session.post(
            client.revoke_url, data={"token": tokens.refresh_token}, **common
        )
    except requests.RequestException as exc:
        raise FitbitUnavailableError(f"no answer from Fitbit: {type(exc).__name__}") from exc
    try:
        raise_for_fitbit(response)
    except FitbitAuthError:
        return
