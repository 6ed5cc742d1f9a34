"""Fitbit as a vendor cloud plugin (:class:`~devices.cloud.base.CloudVendor`).

Connect: OAuth 2.0 authorization code with PKCE (:mod:`devices.fitbit.oauth`).
Pull: the profile's time zone, then the days' weight logs, SpO2 and resting
heart-rate summaries (:mod:`devices.fitbit.client`), converted by
:class:`~devices.fitbit.convert.FitbitAdapter`. A periodic pull asks from the
day after the cursor (at first ``backfill_days`` back), at most
:data:`MAX_RANGE_DAYS`; daily summaries only of days that are over.
Notifications: signed by Fitbit (:mod:`devices.fitbit.webhook`); the
subscriber endpoint is verified with the app's verification code.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from devices.adapters.base import DeviceAdapter
from devices.cloud.base import BadNotificationError, CloudVendor
from devices.cloud.models import Connection, Fetched, Notification, Tokens
from devices.fitbit import oauth, webhook
from devices.fitbit.client import FitbitApi
from devices.fitbit.convert import VENDOR, FitbitAdapter, zone
from devices.fitbit.exceptions import FitbitError
from devices.fitbit.models import COLLECTIONS, FitbitRecords
from hub.settings import VendorSettings

log = logging.getLogger(__name__)

#: Fitbit's longest range for weight logs is 31 days, SpO2 30.
MAX_RANGE_DAYS = 30


class FitbitCloud(CloudVendor):
    name: ClassVar[str] = VENDOR
    label: ClassVar[str] = "Fitbit"

    def __init__(self) -> None:
        self._adapter = FitbitAdapter()

    @property
    def adapter(self) -> DeviceAdapter[Any]:
        return self._adapter

    def authorize_url(self, config: VendorSettings, *, state: str, code_verifier: str) -> str:
        return oauth.authorize_url(config, state=state, code_verifier=code_verifier)

    def exchange_code(
        self, config: VendorSettings, *, code: str, code_verifier: str, now: datetime
    ) -> Tokens:
        return oauth.exchange_code(config, code=code, code_verifier=code_verifier, now=now)

    def refresh(self, config: VendorSettings, *, tokens: Tokens, now: datetime) -> Tokens:
        return oauth.refresh(config, tokens=tokens, now=now)

    def revoke(self, config: VendorSettings, *, tokens: Tokens) -> None:
        oauth.revoke(config, tokens=tokens)

    def subscribe(self, config: VendorSettings, *, tokens: Tokens, device_id: int) -> None:
        """Subscribe the account's collections, each on its own (one failing is logged)."""
        api = FitbitApi(config, access_token=tokens.access_token)
        for collection in COLLECTIONS:
            try:
                api.subscribe(collection, f"lastmile-{device_id}")
            except FitbitError as exc:
                log.warning(
                    "fitbit subscription failed",
                    extra={
                        "device_id": device_id,
                        "collection": collection,
                        "error": type(exc).__name__,
                    },
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
        api = FitbitApi(config, access_token=access_token)
        timezone = str(api.profile().get("timezone") or "UTC")
        today = now.astimezone(zone(timezone)).date()
        complete = today - timedelta(days=1)
        if day is not None:
            start = end = min(day, today)
        else:
            first = today - timedelta(days=config.backfill_days - 1)
            cursor = connection.pulled_through
            start = max(
                first if cursor is None else cursor + timedelta(days=1),
                today - timedelta(days=MAX_RANGE_DAYS),
            )
            end = today
        summaries_end = min(end, complete)
        spo2: list[dict[str, Any]] = []
        heart: list[dict[str, Any]] = []
        if start <= summaries_end:
            spo2 = api.spo2(start, summaries_end)
            heart = api.heart_summaries(start, summaries_end)
        records = FitbitRecords(
            user_id=connection.account_id,
            timezone=timezone,
            complete_through=complete,
            weights=tuple(api.weights(start, end)),
            spo2=tuple(spo2),
            heart=tuple(heart),
        )
        return Fetched(records, timezone, complete)

    def verify_subscriber(self, config: VendorSettings, query: Mapping[str, str]) -> bool:
        """Fitbit's subscriber verification: the app's code in ``?verify=``."""
        expected = config.verification_code.get_secret_value()
        given = query.get("verify", "")
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())

    def notifications(
        self,
        config: VendorSettings,
        *,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
    ) -> list[Notification]:
        secret = config.client_secret.get_secret_value()
        if not webhook.signature_ok(secret, body, headers.get("x-fitbit-signature")):
            raise BadNotificationError("not signed by Fitbit")
        return webhook.parse(body)
