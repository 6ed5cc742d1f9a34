"""The ``fitbit`` package (python-fitbit), pointed at the configured Fitbit URLs.

The package builds its endpoints from class constants; the two subclasses
here set them from the vendor settings instead (``LASTMILE_FITBIT__API_URL``,
``LASTMILE_FITBIT__AUTHORIZE_URL``), so a local server can stand in for Fitbit.
Two parts of the package are replaced: its ``make_request`` retries a 401
through a refresh it cannot do without a token updater (the hub refreshes
itself, under a row lock: :mod:`devices.cloud.puller`) and reads a 429's
``Retry-After`` without checking it is there. :func:`raise_for_fitbit` maps
Fitbit's answers onto :mod:`devices.fitbit.exceptions` instead.

Units: the package's ``METRIC`` locale (any ``Accept-Language`` other than
``en_US``/``en_GB``) makes Fitbit answer in kilograms.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import requests
from fitbit import Fitbit
from fitbit.api import FitbitOauth2Client

from devices.fitbit.exceptions import (
    FitbitAuthError,
    FitbitExpiredTokenError,
    FitbitRateLimitedError,
    FitbitUnavailableError,
)
from hub.settings import VendorSettings

#: Fitbit's rate limit resets at the top of the hour; never wait longer.
MAX_WAIT_S = 3600


def _seconds(value: str | None) -> int | None:
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return math.ceil(seconds) if math.isfinite(seconds) and seconds >= 0 else None


def retry_after(response: requests.Response) -> int:
    """Seconds to wait after a 429: the larger of ``Retry-After`` and ``Fitbit-Rate-Limit-Reset``.

    >>> r = requests.Response()
    >>> r.headers.update({"Fitbit-Rate-Limit-Reset": "1712", "Retry-After": "1700"})
    >>> retry_after(r)
    1712
    >>> retry_after(requests.Response())  # no hint: a minute
    60
    """
    hints = [
        s
        for s in (
            _seconds(response.headers.get("Retry-After")),
            _seconds(response.headers.get("Fitbit-Rate-Limit-Reset")),
        )
        if s is not None
    ]
    return min(MAX_WAIT_S, max(hints)) if hints else 60


def error_type(response: requests.Response) -> str:
    """The first ``errorType`` of a Fitbit error body (``""`` if there is none)."""
    try:
        errors = response.json().get("errors") or [{}]
        return str(errors[0].get("errorType", ""))
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""


def raise_for_fitbit(response: requests.Response) -> None:
    """Raise the hub's exception for a Fitbit error answer; nothing for a success."""
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        raise FitbitRateLimitedError(retry_after(response))
    kind = error_type(response)
    if status == 401 and kind == "expired_token":
        raise FitbitExpiredTokenError("access token expired")
    if status in (400, 401) and kind in ("invalid_grant", "invalid_token"):
        raise FitbitAuthError(f"authorization is gone ({kind})")
    raise FitbitUnavailableError(f"Fitbit answered {status} {kind}".rstrip())


class OAuthClient(FitbitOauth2Client):  # type: ignore[misc]
    """The package's OAuth 2.0 client with the configured endpoints."""

    def __init__(self, config: VendorSettings) -> None:
        api = config.api_url.rstrip("/")
        # Instance attributes, set before the base class reads them.
        self.API_ENDPOINT = api
        self.request_token_url = self.access_token_url = self.refresh_token_url = (
            f"{api}/oauth2/token"
        )
        self.revoke_url = f"{api}/oauth2/revoke"
        self.authorization_url = f"{config.authorize_url.rstrip('/')}/oauth2/authorize"
        super().__init__(
            config.client_id,
            config.client_secret.get_secret_value(),
            redirect_uri=config.redirect_url,
            timeout=config.timeout_s,
        )
        #: Passed with each request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE.
        self.verify: str | bool = str(config.ca_file) if config.ca_file is not None else True

    def make_request(
        self, url: str, data: Any = None, method: str | None = None, **kwargs: Any
    ) -> requests.Response:
        data = data or {}
        method = method or ("POST" if data else "GET")
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.verify)
        try:
            response = self.session.request(method, url, data=data, **kwargs)
        except requests.RequestException as exc:
            raise FitbitUnavailableError(f"no answer from Fitbit: {type(exc).__name__}") from exc
        raise_for_fitbit(response)
        answer: requests.Response = response
        return answer


class FitbitApi(Fitbit):  # type: ignore[misc]
    """The package's API client for one account, metric units, configured URLs.

    (The base class sets per-instance methods named after its resources,
    ``heart``, ``body``, ``sleep``...: methods here use other names.)
    """

    def __init__(self, config: VendorSettings, *, access_token: str) -> None:
        secret = config.client_secret.get_secret_value()
        super().__init__(config.client_id, secret, system=Fitbit.METRIC)
        self.client = OAuthClient(config)
        # Only the access token: the hub refreshes by itself (devices.cloud.puller).
        self.client.session.token = {"access_token": access_token, "token_type": "Bearer"}
        self.API_ENDPOINT = self.client.API_ENDPOINT
        self._subscriber_id = config.subscriber_id

    def _json(self, answer: Any, kind: type) -> Any:
        if not isinstance(answer, kind):
            raise FitbitUnavailableError("Fitbit answered something that is not documented")
        return answer

    def profile(self) -> dict[str, Any]:
        user = self._json(self.user_profile_get(), dict).get("user")
        return dict(self._json(user, dict))

    def weights(self, start: date, end: date) -> list[dict[str, Any]]:
        """Weight logs from ``start`` to ``end`` (at most 31 days)."""
        answer = self._json(self.get_bodyweight(base_date=start, end_date=end), dict)
        return list(self._json(answer.get("weight", []), list))

    def spo2(self, start: date, end: date) -> list[dict[str, Any]]:
        """Daily SpO2 summaries from ``start`` to ``end`` (at most 30 days)."""
        url = f"{self.API_ENDPOINT}/1/user/-/spo2/date/{start}/{end}.json"
        answer = self.make_request(url)
        # One day is an object ({} when there is none), a range a list.
        return [answer] if isinstance(answer, dict) and answer else list(self._json(answer, list))

    def heart_summaries(self, start: date, end: date) -> list[dict[str, Any]]:
        """Daily heart-rate summaries (``restingHeartRate``) from ``start`` to ``end``."""
        answer = self._json(
            self.time_series("activities/heart", base_date=start, end_date=end), dict
        )
        return list(self._json(answer.get("activities-heart", []), list))

    def subscribe(self, collection: str, subscription_id: str) -> None:
        """Subscribe the account's ``collection`` (Fitbit then notifies the webhook)."""
        self.subscription(subscription_id, self._subscriber_id, collection=collection)
