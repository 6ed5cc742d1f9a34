"""Request and response bodies of the vendor cloud routes (the same for every vendor)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class VendorConnectOut(BaseModel):
    """Where to send the patient's browser to connect their account at the vendor."""

    authorize_url: str
    expires_in_s: int


class VendorStatusOut(BaseModel):
    """A patient's connection to one vendor, as the dashboard shows it.

    ``revoked``: the patient withdrew access at the vendor (or the vendor
    refused the grant): nothing is pulled until they connect again.
    """

    vendor: str
    #: As shown to people ("Withings").
    label: str
    enabled: bool
    status: Literal["not_connected", "connected", "revoked", "disconnected"]
    #: The account's id at the vendor (Fitbit's user id, Withings' userid).
    account_id: str | None = None
    device_id: int | None = None
    connected_at: datetime | None = None
    #: The last local day whose data was all delivered.
    pulled_through: date | None = None
    next_pull_at: datetime | None = None
    #: The vendor's rate limit (or a failure) holds pulls until then.
    paused_until: datetime | None = None
    last_error: str | None = None


class VendorsOut(BaseModel):
    """A patient's connection to each vendor cloud of the hub, in the registry's order."""

    vendors: list[VendorStatusOut]
