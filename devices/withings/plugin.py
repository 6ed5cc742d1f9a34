"""Withings as a vendor cloud plugin (:class:`~devices.cloud.base.CloudVendor`).

Connect: OAuth 2.0 authorization code. The patient grants ``user.metrics`` at
``<authorize_url>/oauth2_user/authorize2``; the code is traded at
``<api_url>/v2/oauth2`` (``action=requesttoken``, ``grant_type``
``authorization_code`` or ``refresh_token``, client id and secret in the
form); the answer's ``body`` holds ``userid``, the tokens and ``expires_in``.
Withings does not document PKCE: the base's verifier is not sent.

Pull: ``getmeas`` (category 1, the types of :data:`~devices.withings.convert.MEASTYPES`)
between ``startdate`` and ``enddate``, following ``more``/``offset``. Withings'
measures are points in time, so the hub chooses the days: the patient's own
days (``patients.timezone``). A notified day is asked for from its local
midnight to the second before the next; a periodic pull asks from the local
day after the cursor (at first ``backfill_days`` back) until now, and the
cursor stops at the patient's yesterday.

Notifications: the hub subscribes (``/notify``, ``action=subscribe``) to the
categories of :data:`APPLIS`, with the callback URL ``notify_url`` plus a
``token`` derived from ``verification_code``: Withings does not sign its
notifications, so that token is what authenticates them. A notification is a
form ``POST`` of ``userid``, ``appli``, ``startdate`` and ``enddate`` (Unix
times), answered 200; the base queues each of the patient's days the span
touches. A profile event (appli 46, with ``action`` ``delete``, ``unlink`` or
``update``) carries no span: ``unlink`` (the user unlinked the app) and
``delete`` (the account is gone) end the connection, ``update`` is ignored.
(https://developer.withings.com/developer-guide/v3/integration-guide/bulkship-sdk/data-api/notifications/notification-content
lists the categories and their fields.) The hub does not subscribe to appli
46, which needs the ``user.info`` scope; a withdrawn grant shows at the next
refresh instead (the puller ends the connection as ``revoked``).

Disconnect: the grant is revoked at Withings (``/v2/oauth2``, ``action=revoke``,
a signed call: see :mod:`~devices.withings.client`), which also ends the
account's notification subscriptions, and the tokens are forgotten. A grant
Withings says is not there to revoke (refused as bad authentication, bad
params or unauthorized, after a nonce was obtained, so not for a bad secret)
counts as revoked; Withings not answering or rate limiting leaves the
connection as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from devices.adapters.base import DeviceAdapter
from devices.cloud.base import BadNotificationError, CloudVendor
from devices.cloud.models import Connection, Fetched, Notification, Tokens
from devices.withings import client
from devices.withings.convert import MEASTYPES, VENDOR, WithingsAdapter, WithingsRecords, zone
from devices.withings.exceptions import WithingsError, WithingsUnavailableError
from devices.withings.status import Family, family, status_error
from hub.settings import VendorSettings

log = logging.getLogger(__name__)

SCOPE = "user.metrics"
#: Notification categories (scope ``user.metrics``): 1 weight-related data (body
#: temperature among its types), 2 temperature, 4 blood pressure, heart pulse, SpO2.
APPLIS = (1, 2, 4)
#: The category of profile events (``action``: ``delete``, ``unlink``, ``update``).
USER_APPLI = "46"
#: A profile event's ``action`` that means the hub's access is gone.
GRANT_GONE = frozenset({"unlink", "delete"})
#: A notification spanning more days than this is not one the hub asked for.
MAX_NOTIFIED_DAYS = 31
#: More pages of ``getmeas`` than this for one pull is not Withings.
MAX_PAGES = 50
#: Refusals of a signed revoke that mean there is no grant left to revoke.
_NOTHING_TO_REVOKE = frozenset(
    {Family.AUTHENTICATION_FAILED, Family.INVALID_PARAMS, Family.UNAUTHORIZED}
)


def notify_token(config: VendorSettings) -> str:
    """The secret the hub adds to the callback URL it registers (from ``verification_code``)."""
    key = config.verification_code.get_secret_value().encode()
    return hmac.new(key, b"lastmile withings notify v1", hashlib.sha256).hexdigest()[:40]


def callback_url(config: VendorSettings) -> str:
    separator = "&" if "?" in config.notify_url else "?"
    return f"{config.notify_url}{separator}{urlencode({'token': notify_token(config)})}"


def start_of(day: date, tz: ZoneInfo) -> int:
    """The Unix time of ``day``'s first second in ``tz``.

    >>> start_of(date(2024, 5, 1), ZoneInfo("Pacific/Auckland"))  # 2024-04-30T12:00Z
    1714478400
    """
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp())


def _instant(form: Mapping[str, str], name: str) -> datetime:
    value = form.get(name, "")
    if not value.isdigit() or len(value) > 12:
        raise ValueError(f"a notification without a valid {name}")
    return datetime.fromtimestamp(int(value), UTC)


class WithingsCloud(CloudVendor):
    name: ClassVar[str] = VENDOR
    label: ClassVar[str] = "Withings"
    #: Withings wants a 200 within two seconds, or counts the delivery as failed.
    notify_status: ClassVar[int] = 200

    def __init__(self) -> None:
        self._adapter = WithingsAdapter()

    @property
    def adapter(self) -> DeviceAdapter[Any]:
        return self._adapter

    def authorize_url(self, config: VendorSettings, *, state: str, code_verifier: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": config.client_id,
                "scope": SCOPE,
                "redirect_uri": config.redirect_url,
                "state": state,
            }
        )
        return f"{config.authorize_url.rstrip('/')}/oauth2_user/authorize2?{query}"

    def _token(self, config: VendorSettings, form: dict[str, str], now: datetime) -> Tokens:
        body = client.call(
            config,
            "/v2/oauth2",
            {
                "action": "requesttoken",
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
                **form,
            },
            token_call=True,
        )
        return client.tokens_of(body, now=now)

    def exchange_code(
        self, config: VendorSettings, *, code: str, code_verifier: str, now: datetime
    ) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_url,
        }
        return self._token(config, form, now)

    def refresh(self, config: VendorSettings, *, tokens: Tokens, now: datetime) -> Tokens:
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        return self._token(config, form, now)

    def revoke(self, config: VendorSettings, *, tokens: Tokens) -> None:
        """Revoke the grant (a signed call); Withings ends its subscriptions with it."""
        status = client.revoke_grant(config, userid=tokens.account_id, now=datetime.now(UTC))
        if status == 0:
            return
        if family(status) in _NOTHING_TO_REVOKE:
            log.warning("withings grant already gone", extra={"status": status})
            return
        raise status_error(status, token_call=False)

    def subscribe(self, config: VendorSettings, *, tokens: Tokens, device_id: int) -> None:
        """Subscribe the account's notification categories, each on its own."""
        for appli in APPLIS:
            try:
                client.call(
                    config,
                    "/notify",
                    {
                        "action": "subscribe",
                        "callbackurl": callback_url(config),
                        "appli": str(appli),
                        "comment": f"lastmile device {device_id}",
                    },
                    access_token=tokens.access_token,
                )
            except WithingsError as exc:
                log.warning(
                    "withings subscription failed",
                    extra={"device_id": device_id, "appli": appli, "error": type(exc).__name__},
                )

    def fetch(
        self,
        config: VendorSettings,
        *,
        access_token: str,
        connection: Connection,
        day: date | None,
        now: datetime,
    ) -> Fetched:
        tz = zone(connection.patient_timezone)
        today = now.astimezone(tz).date()
        if day is not None:
            start, end = start_of(day, tz), start_of(day + timedelta(days=1), tz) - 1
        else:
            cursor = connection.pulled_through
            first = today - timedelta(days=config.backfill_days - 1)
            start = start_of(first if cursor is None else cursor + timedelta(days=1), tz)
            end = int(now.timestamp())
        groups: list[dict[str, Any]] = []
        timezone = "UTC"
        form = {
            "action": "getmeas",
            "meastypes": ",".join(str(t) for t in MEASTYPES),
            "category": "1",
            "startdate": str(start),
            "enddate": str(end),
        }
        for _page in range(MAX_PAGES):
            body = client.call(config, "/measure", form, access_token=access_token)
            found = body.get("measuregrps", [])
            if not isinstance(found, list):
                raise WithingsUnavailableError("getmeas answered without measuregrps")
            groups.extend(found)
            timezone = str(body.get("timezone") or timezone)
            if not body.get("more"):
                break
            form = {**form, "offset": str(int(body.get("offset", 0)))}
        else:
            raise WithingsUnavailableError("getmeas kept answering more")
        records = WithingsRecords(connection.account_id, timezone, tuple(groups))
        return Fetched(records, timezone, today - timedelta(days=1))

    def verify_subscriber(self, config: VendorSettings, query: Mapping[str, str]) -> bool:
        """A ``GET`` of the callback URL (Withings checking it): the token must be right."""
        return hmac.compare_digest(query.get("token", "").encode(), notify_token(config).encode())

    def notifications(
        self,
        config: VendorSettings,
        *,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
    ) -> list[Notification]:
        if not self.verify_subscriber(config, query):
            raise BadNotificationError("not the callback URL the hub registered")
        form = dict(parse_qsl(body.decode("utf-8", errors="strict"), strict_parsing=True))
        userid = form.get("userid", "")
        if not userid.isdigit() or len(userid) > 20:
            raise ValueError("a notification without a valid userid")
        appli = form.get("appli", "")
        if appli == USER_APPLI or "action" in form:  # a profile event: no data to pull
            gone = form.get("action") in GRANT_GONE
            return [Notification(userid, None, appli, revoked=True)] if gone else []
        first, last = _instant(form, "startdate"), _instant(form, "enddate")
        if not timedelta(0) <= last - first < timedelta(days=MAX_NOTIFIED_DAYS):
            raise ValueError("a notification over a span the hub does not expect")
        return [Notification(userid, None, appli, span=(first, last))]
