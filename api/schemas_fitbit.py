"""Request and response bodies of the Fitbit routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class FitbitConnectOut(BaseModel):
    """Where to send the patient's browser to connect their Fitbit account."""

    authorize_url: str
    expires_in_s: int


class FitbitStatusOut(BaseModel):
    """A patient's Fitbit connection, as the dashboard shows it."""

    enabled: bool
    status: Literal["not_connected", "connected", "revoked", "disconnected"]
    fitbit_user_id: str | None = None
    device_id: int | None = None
    connected_at: datetime | None = None
    #: The last local day whose daily summaries were all delivered.
    pulled_through: date | None = None
    next_pull_at: datetime | None = None
    #: Fitbit's rate limit (or a failure) holds pulls until then.
    paused_until: datetime | None = None
    last_error: str | None = None
