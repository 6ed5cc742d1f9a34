"""Types of the Fitbit adapter (tokens and connections: :mod:`devices.cloud.models`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: The collections the hub subscribes to: weight logs (body), resting heart
#: rate (activities) and SpO2, which Fitbit computes after a sleep (sleep).
COLLECTIONS = ("body", "activities", "sleep")

#: What the hub asks the patient to share.
SCOPES = ("weight", "heartrate", "oxygen_saturation", "profile", "activity", "sleep")


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
