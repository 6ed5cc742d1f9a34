"""Types of the vendor base: tokens, a stored connection, a notification, a fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Tokens:
    """An account's OAuth 2.0 tokens (kept only sealed, see :mod:`devices.cloud.sealing`)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    #: The account's id at the vendor (Fitbit's user id, Withings' userid).
    account_id: str
    scope: str = ""

    def __repr__(self) -> str:  # never print a token
        return f"Tokens(account_id={self.account_id!r}, expires_at={self.expires_at.isoformat()!r})"


@dataclass(frozen=True, slots=True)
class Connection:
    """A patient's link to an account at one vendor, as stored (without the tokens)."""

    vendor: str
    patient_id: UUID
    account_id: str
    device_id: int
    status: str
    expires_at: datetime | None
    scope: str
    #: The account's time zone as the vendor says (its local dates are in it).
    timezone: str
    #: The patient's own time zone (``patients.timezone``): the hub's days are in it.
    patient_timezone: str
    pulled_through: date | None
    next_pull_at: datetime
    paused_until: datetime | None
    connected_at: datetime
    updated_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    """One thing a vendor's webhook told the hub: new data of an account's day, or revocation.

    A vendor names the day (Fitbit: a date in the account's zone) or the
    time span the new data falls in (Withings: Unix times); the base turns a
    span into the days of the patient's own time zone it touches.
    """

    account_id: str
    #: The day with new data (None: see ``span``, or a revocation).
    day: date | None
    #: The vendor's name of what changed (a Fitbit collection, a Withings appli).
    kind: str
    #: The patient withdrew the hub's access at the vendor: end the connection.
    revoked: bool = False
    #: The first and last instant of the new data (timezone-aware), instead of a day.
    span: tuple[datetime, datetime] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one pull fetched: the vendor's records, and where the cursor may move."""

    records: Any
    #: The account's IANA time zone (the vendor's local dates are in it).
    timezone: str
    #: The last local day whose data is final (the cursor after a periodic pull).
    complete_through: date


@dataclass(frozen=True, slots=True)
class PullResult:
    """What one pull did: ``outcome`` is pulled, paused, revoked, failed or idle."""

    outcome: str
    points: int = 0
