"""The vendor plugin: what a cloud vendor must say in its own protocol.

Everything else of a vendor's life (state and PKCE, sealing, the tables,
refresh under a row lock, rate-limit pauses, revocation, the pull queue, the
vendors process, the HTTP routes) is the base's, in :mod:`devices.cloud`.
A plugin raises the generic exceptions of :mod:`devices.adapters.exceptions`
(or its own subclasses of them): ``VendorExpiredTokenError`` makes the base
refresh once and retry, ``VendorRateLimitedError`` pauses the account,
``VendorAuthError`` ends the connection as ``revoked``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from devices.adapters.base import DeviceAdapter
from devices.cloud.models import Connection, Fetched, Notification, Tokens
from hub.settings import Settings, VendorSettings


class BadNotificationError(ValueError):
    """A webhook call that is not the vendor's: bad signature or secret (answered 404)."""


class CloudVendor(ABC):
    """One vendor cloud. Subclasses set the class attributes and the protocol methods."""

    #: The vendor's key: its settings field, its table rows, its routes (/api/v1/<name>/...).
    name: ClassVar[str]
    #: As shown to people ("Fitbit").
    label: ClassVar[str]
    #: HTTP status the webhook answers a notification with (what the vendor expects).
    notify_status: ClassVar[int] = 204

    @property
    @abstractmethod
    def adapter(self) -> DeviceAdapter[Any]:
        """Converts the records :meth:`fetch` returns to Open mHealth points."""

    def config(self, settings: Settings) -> VendorSettings:
        return settings.vendor(self.name)

    # -- OAuth 2.0 ----------------------------------------------------------

    @abstractmethod
    def authorize_url(self, config: VendorSettings, *, state: str, code_verifier: str) -> str:
        """Where to send the patient's browser to grant access."""

    @abstractmethod
    def exchange_code(
        self, config: VendorSettings, *, code: str, code_verifier: str, now: datetime
    ) -> Tokens:
        """Trade the callback's authorization code for tokens."""

    @abstractmethod
    def refresh(self, config: VendorSettings, *, tokens: Tokens, now: datetime) -> Tokens:
        """A new token pair (a refresh token may be single-use: the base stores the new one)."""

    @abstractmethod
    def revoke(self, config: VendorSettings, *, tokens: Tokens) -> None:
        """End the hub's access at the vendor (a grant already gone counts as revoked)."""

    # -- subscriptions and data ---------------------------------------------

    @abstractmethod
    def subscribe(self, config: VendorSettings, *, tokens: Tokens, device_id: int) -> None:
        """Ask the vendor to notify the webhook of the account's new data (best effort)."""

    @abstractmethod
    def fetch(
        self,
        config: VendorSettings,
        *,
        access_token: str,
        connection: Connection,
        day: date | None,
        now: datetime,
    ) -> Fetched:
        """The account's records: of one ``day`` (a notification), or since the cursor."""

    # -- the webhook ----------------------------------------------------------

    def verify_subscriber(self, config: VendorSettings, query: Mapping[str, str]) -> bool:
        """A ``GET`` of the webhook: the vendor checking the endpoint (False: 404)."""
        return False

    @abstractmethod
    def notifications(
        self,
        config: VendorSettings,
        *,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
    ) -> list[Notification]:
        """The notifications of a webhook ``POST``.

        Raises :class:`BadNotificationError` if the call is not authenticated as the
        vendor's, ``ValueError`` if it is but its body is not the documented shape.
        """
