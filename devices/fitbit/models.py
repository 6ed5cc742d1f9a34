"""Types of the Fitbit adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

#: The collections the hub subscribes to: weight logs (body), resting heart
#: rate (activities) and SpO2, which Fitbit computes after a sleep (sleep).
COLLECTIONS = ("body", "activities", "sleep")

#: What the hub asks the patient to share.
SCOPES = ("weight", "heartrate", "oxygen_saturation", "profile", "activity", "sleep")


@dataclass(frozen=True, slots=True)
class Tokens:
    """An account's OAuth 2.0 tokens (kept only encrypted, see :mod:`devices.fitbit.crypto`)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    user_id: str
    scope: str = ""

    def __repr__(self) -> str:  # never print a token
        return f"Tokens(user_id={self.user_id!r}, expires_at={self.expires_at.isoformat()!r})"


@dataclass(frozen=True, slots=True)
class Connection:
    """A patient's link to a Fitbit account, as stored (without the tokens)."""

    patient_id: UUID
    fitbit_user_id: str
    device_id: int
    status: str
    expires_at: datetime | None
    scope: str
    timezone: str
    pulled_through: date | None
    next_pull_at: datetime
    paused_until: datetime | None
    connected_at: datetime
    updated_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class FitbitRecords:
    """What one pull fetched for an account: Fitbit's JSON, as Fitbit sent it.

    ``weights`` are the entries of ``body/log/weight``; ``spo2`` the daily
    summaries (``{"dateTime", "value": {"avg", "min", "max"}}``); ``heart`` the
    entries of ``activities-heart``. Daily summaries of days after
    ``complete_through`` (a day not over yet in ``timezone``) are left out,
    since Fitbit still changes them.
    """

    user_id: str
    timezone: str
    complete_through: date
    weights: tuple[dict[str, Any], ...] = ()
    spo2: tuple[dict[str, Any], ...] = ()
    heart: tuple[dict[str, Any], ...] = field(default=())
