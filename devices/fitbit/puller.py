"""One pull of one Fitbit account: fresh tokens, Fitbit's JSON, points published.

Order of work, so nothing is lost and nothing is asked for too early:

1. Under the connection's row lock, refresh the tokens if they expire within
   :data:`REFRESH_MARGIN` (a refresh token is single-use: the new pair is
   committed before it is used). ``invalid_grant`` means the patient revoked
   access at Fitbit: the connection becomes ``revoked`` and is not pulled again.
2. Fetch the profile (its time zone) and the days' weight logs, SpO2 and
   heart-rate summaries; a 401 ``expired_token`` refreshes once and retries.
3. Convert (:class:`~devices.fitbit.convert.FitbitAdapter`) and publish as the
   vendor gateway, waiting for the broker's PUBACKs; only then advance the
   cursor (``pulled_through``) or take the day off the queue.

A 429 pauses the account until Fitbit's reset (``paused_until``, persisted);
any other failure pauses it for :data:`FAILURE_PAUSE` and is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from devices.adapters.exceptions import VendorError
from devices.adapters.publisher import VendorPublisher
from devices.fitbit import oauth
from devices.fitbit import service as fitbit
from devices.fitbit.client import FitbitApi
from devices.fitbit.convert import FitbitAdapter, zone
from devices.fitbit.crypto import TokenBox
from devices.fitbit.exceptions import (
    FitbitAuthError,
    FitbitExpiredTokenError,
    FitbitRateLimitedError,
    FitbitUnavailableError,
)
from devices.fitbit.models import FitbitRecords, Tokens
from hub.db import Conn
from hub.settings import Settings

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
FAILURE_PAUSE = timedelta(minutes=2)
#: Fitbit's longest range for weight logs is 31 days, SpO2 30.
MAX_RANGE_DAYS = 30

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PullResult:
    """What one pull did: ``outcome`` is pulled, paused, revoked, failed or idle."""

    outcome: str
    points: int = 0


class FitbitPuller:
    """Pulls accounts and publishes their points through ``publisher``."""

    def __init__(self, settings: Settings, publisher: VendorPublisher) -> None:
        self.settings = settings
        self.publisher = publisher
        self.box = TokenBox(settings.fitbit_token_key.get_secret_value())
        self.adapter = FitbitAdapter()

    def pull(
        self, conn: Conn, *, patient_id: UUID, now: datetime, day: date | None = None
    ) -> PullResult:
        """Pull one account: the due days (periodic), or one ``day`` (a notification).

        ``conn`` is in autocommit mode: each step commits on its own (the new
        token pair before it is used, the cursor after the PUBACKs).
        """
        assert conn.autocommit, "the puller commits step by step"
        try:
            tokens = self._tokens(conn, patient_id=patient_id, now=now, force=False)
            if tokens is None:
                return PullResult("idle")
            result = self._pull(conn, patient_id=patient_id, tokens=tokens, now=now, day=day)
        except FitbitRateLimitedError as exc:
            until = now + timedelta(seconds=exc.retry_after_s)
            with conn.transaction():
                fitbit.pause(conn, patient_id=patient_id, until=until, now=now)
            log.warning(
                "fitbit rate limited",
                extra={"patient_id": str(patient_id), "retry_after_s": exc.retry_after_s},
            )
            return PullResult("paused")
        except FitbitAuthError:
            self._end(conn, patient_id=patient_id, now=now)
            return PullResult("revoked")
        except VendorError as exc:
            with conn.transaction():
                fitbit.pull_failed(
                    conn,
                    patient_id=patient_id,
                    reason=type(exc).__name__,
                    until=now + FAILURE_PAUSE,
                    now=now,
                )
            log.warning(
                "fitbit pull failed",
                extra={"patient_id": str(patient_id), "error": type(exc).__name__},
            )
            return PullResult("failed")
        return result

    def _end(self, conn: Conn, *, patient_id: UUID, now: datetime) -> None:
        with conn.transaction():
            fitbit.end_connection(
                conn, patient_id=patient_id, status="revoked", reason="invalid_grant", now=now
            )
        log.warning("fitbit access revoked by the user", extra={"patient_id": str(patient_id)})

    def _tokens(
        self, conn: Conn, *, patient_id: UUID, now: datetime, force: bool, stale: str = ""
    ) -> Tokens | None:
        """The account's tokens, refreshed under the row lock when due (or ``force``)."""
        with conn.transaction():
            row = fitbit.lock_connection(conn, patient_id=patient_id)
            if row is None or row["status"] != "connected" or row["tokens"] is None:
                return None
            tokens = self.box.open(bytes(row["tokens"]), patient_id=patient_id)
            if force and tokens.access_token != stale:
                return tokens  # another puller refreshed it meanwhile
            if not force and tokens.expires_at - REFRESH_MARGIN > now:
                return tokens
            fresh = oauth.refresh(self.settings, tokens=tokens, now=now)
            fitbit.store_tokens(
                conn,
                patient_id=patient_id,
                tokens=self.box.seal(fresh, patient_id=patient_id),
                expires_at=fresh.expires_at,
                now=now,
            )
            log.info("fitbit tokens refreshed", extra={"patient_id": str(patient_id)})
            return fresh

    def _with_refresh(
        self,
        conn: Conn,
        patient_id: UUID,
        tokens: Tokens,
        now: datetime,
        fetch: Callable[[FitbitApi], T],
    ) -> T:
        try:
            return fetch(FitbitApi(self.settings, access_token=tokens.access_token))
        except FitbitExpiredTokenError:
            fresh = self._tokens(
                conn, patient_id=patient_id, now=now, force=True, stale=tokens.access_token
            )
            if fresh is None:
                raise FitbitAuthError("the connection ended during the pull") from None
            return fetch(FitbitApi(self.settings, access_token=fresh.access_token))

    def _pull(
        self, conn: Conn, *, patient_id: UUID, tokens: Tokens, now: datetime, day: date | None
    ) -> PullResult:
        connection = fitbit.get_connection(conn, patient_id=patient_id)
        assert connection is not None

        def fetch(api: FitbitApi) -> FitbitRecords:
            timezone = str(api.profile().get("timezone") or "UTC")
            today = now.astimezone(zone(timezone)).date()
            complete = today - timedelta(days=1)
            if day is not None:
                start = end = min(day, today)
            else:
                first = today - timedelta(days=self.settings.fitbit_backfill_days - 1)
                cursor = connection.pulled_through
                start = max(
                    first if cursor is None else cursor + timedelta(days=1),
                    today - timedelta(days=MAX_RANGE_DAYS),
                )
                end = today
            summaries_end = min(end, complete)
            spo2, heart = [], []
            if start <= summaries_end:
                spo2 = api.spo2(start, summaries_end)
                heart = api.heart_summaries(start, summaries_end)
            return FitbitRecords(
                user_id=connection.fitbit_user_id,
                timezone=timezone,
                complete_through=complete,
                weights=tuple(api.weights(start, end)),
                spo2=tuple(spo2),
                heart=tuple(heart),
            )

        records = self._with_refresh(conn, patient_id, tokens, now, fetch)
        try:
            points = self.adapter.convert(records)
        except (KeyError, ValueError, TypeError) as exc:
            raise FitbitUnavailableError("Fitbit sent a record without a documented field") from exc
        if points:
            self.publisher.publish(self.adapter.serial(records.user_id), points)
        with conn.transaction():
            periodic = day is None
            fitbit.pull_done(
                conn,
                patient_id=patient_id,
                pulled_through=records.complete_through if periodic else None,
                timezone=records.timezone,
                next_pull_at=now + timedelta(seconds=self.settings.fitbit_pull_interval_s)
                if periodic
                else None,
                now=now,
            )
            if day is not None:
                fitbit.unqueue_pull(conn, fitbit_user_id=records.user_id, day=day)
        log.info(
            "fitbit pulled",
            extra={"patient_id": str(patient_id), "points": len(points), "periodic": periodic},
        )
        return PullResult("pulled", len(points))
