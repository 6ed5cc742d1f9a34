"""One pull of one vendor account: fresh tokens, the vendor's records, points published.

Order of work, so nothing is lost and nothing is asked for too early:

1. Under the connection's row lock, refresh the tokens if they expire within
   :data:`REFRESH_MARGIN` (a refresh token may be single-use: the new pair is
   committed before it is used). ``VendorAuthError`` means the patient revoked
   access at the vendor: the connection becomes ``revoked`` and is not pulled again.
2. Fetch the records (:meth:`CloudVendor.fetch`); a ``VendorExpiredTokenError``
   refreshes once and retries.
3. Convert (the vendor's adapter) and publish as the vendor gateway, waiting
   for the broker's PUBACKs; only then advance the cursor (``pulled_through``)
   or take the day off the queue.

A ``VendorRateLimitedError`` pauses the account until the vendor's reset
(``paused_until``, persisted); any other failure pauses it for
:data:`FAILURE_PAUSE` and is retried.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from uuid import UUID

from devices.adapters.exceptions import (
    VendorAuthError,
    VendorError,
    VendorExpiredTokenError,
    VendorRateLimitedError,
    VendorUnavailableError,
)
from devices.adapters.publisher import VendorPublisher
from devices.cloud import service as cloud
from devices.cloud.base import CloudVendor
from devices.cloud.connect import box_of
from devices.cloud.models import Connection, Fetched, PullResult, Tokens
from hub.db import Conn
from hub.settings import Settings

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
FAILURE_PAUSE = timedelta(minutes=2)


class Puller:
    """Pulls one vendor's accounts and publishes their points through ``publisher``."""

    def __init__(self, settings: Settings, vendor: CloudVendor, publisher: VendorPublisher) -> None:
        self.settings = settings
        self.vendor = vendor
        self.config = vendor.config(settings)
        self.publisher = publisher
        self.box = box_of(vendor, settings)

    def pull(
        self, conn: Conn, *, patient_id: UUID, now: datetime, day: date | None = None
    ) -> PullResult:
        """Pull one account: the due days (periodic), or one ``day`` (a notification).

        ``conn`` is in autocommit mode: each step commits on its own (the new
        token pair before it is used, the cursor after the PUBACKs).
        """
        assert conn.autocommit, "the puller commits step by step"
        name = self.vendor.name
        try:
            tokens = self._tokens(conn, patient_id=patient_id, now=now, force=False)
            if tokens is None:
                return PullResult("idle")
            result = self._pull(conn, patient_id=patient_id, tokens=tokens, now=now, day=day)
        except VendorRateLimitedError as exc:
            until = now + timedelta(seconds=exc.retry_after_s)
            with conn.transaction():
                cloud.pause(conn, vendor=name, patient_id=patient_id, until=until, now=now)
            log.warning(
                "vendor rate limited",
                extra={
                    "vendor": name,
                    "patient_id": str(patient_id),
                    "retry_after_s": exc.retry_after_s,
                },
            )
            return PullResult("paused")
        except VendorAuthError:
            self._end(conn, patient_id=patient_id, now=now)
            return PullResult("revoked")
        except VendorError as exc:
            with conn.transaction():
                cloud.pull_failed(
                    conn,
                    vendor=name,
                    patient_id=patient_id,
                    reason=type(exc).__name__,
                    until=now + FAILURE_PAUSE,
                    now=now,
                )
            log.warning(
                "vendor pull failed",
                extra={"vendor": name, "patient_id": str(patient_id), "error": type(exc).__name__},
            )
            return PullResult("failed")
        return result

    def _end(self, conn: Conn, *, patient_id: UUID, now: datetime) -> None:
        with conn.transaction():
            cloud.end_connection(
                conn,
                vendor=self.vendor.name,
                patient_id=patient_id,
                status="revoked",
                reason="invalid_grant",
                now=now,
            )
        log.warning(
            "vendor access revoked by the user",
            extra={"vendor": self.vendor.name, "patient_id": str(patient_id)},
        )

    def _tokens(
        self, conn: Conn, *, patient_id: UUID, now: datetime, force: bool, stale: str = ""
    ) -> Tokens | None:
        """The account's tokens, refreshed under the row lock when due (or ``force``)."""
        name = self.vendor.name
        with conn.transaction():
            row = cloud.lock_connection(conn, vendor=name, patient_id=patient_id)
            if row is None or row["status"] != "connected" or row["tokens"] is None:
                return None
            tokens = self.box.open(bytes(row["tokens"]), patient_id=patient_id)
            if force and tokens.access_token != stale:
                return tokens  # another puller refreshed it meanwhile
            if not force and tokens.expires_at - REFRESH_MARGIN > now:
                return tokens
            fresh = self.vendor.refresh(self.config, tokens=tokens, now=now)
            cloud.store_tokens(
                conn,
                vendor=name,
                patient_id=patient_id,
                tokens=self.box.seal(fresh, patient_id=patient_id),
                expires_at=fresh.expires_at,
                now=now,
            )
            log.info(
                "vendor tokens refreshed", extra={"vendor": name, "patient_id": str(patient_id)}
            )
            return fresh

    def _fetch(
        self, conn: Conn, connection: Connection, tokens: Tokens, now: datetime, day: date | None
    ) -> Fetched:
        def fetch(access_token: str) -> Fetched:
            return self.vendor.fetch(
                self.config, access_token=access_token, connection=connection, day=day, now=now
            )

        try:
            return fetch(tokens.access_token)
        except VendorExpiredTokenError:
            fresh = self._tokens(
                conn,
                patient_id=connection.patient_id,
                now=now,
                force=True,
                stale=tokens.access_token,
            )
            if fresh is None:
                raise VendorAuthError("the connection ended during the pull") from None
            return fetch(fresh.access_token)

    def _pull(
        self, conn: Conn, *, patient_id: UUID, tokens: Tokens, now: datetime, day: date | None
    ) -> PullResult:
        name = self.vendor.name
        connection = cloud.get_connection(conn, vendor=name, patient_id=patient_id)
        assert connection is not None
        fetched = self._fetch(conn, connection, tokens, now, day)
        adapter = self.vendor.adapter
        try:
            points = adapter.convert(fetched.records)
        except (KeyError, ValueError, TypeError) as exc:
            raise VendorUnavailableError(
                f"{self.vendor.label} sent a record without a documented field"
            ) from exc
        if points:
            self.publisher.publish(adapter.serial(connection.account_id), points)
        periodic = day is None
        with conn.transaction():
            cloud.pull_done(
                conn,
                vendor=name,
                patient_id=patient_id,
                pulled_through=fetched.complete_through if periodic else None,
                timezone=fetched.timezone,
                next_pull_at=now + timedelta(seconds=self.config.pull_interval_s)
                if periodic
                else None,
                now=now,
            )
            if day is not None:
                cloud.unqueue_pull(conn, vendor=name, account_id=connection.account_id, day=day)
        log.info(
            "vendor pulled",
            extra={
                "vendor": name,
                "patient_id": str(patient_id),
                "points": len(points),
                "periodic": periodic,
            },
        )
        return PullResult("pulled", len(points))
