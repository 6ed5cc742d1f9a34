"""The pusher: drains ``push_outbox`` to the coordinators' push services.

Each round claims the due pushes in batches (``FOR UPDATE SKIP LOCKED``, so
several pushers can share the outbox), commits the claim, sends each push
with pywebpush outside any transaction, and records the outcome:

* 2xx (a push service answers 201 Created): sent.
* 404/410: the subscription is gone; it is deleted with its pending pushes.
* 429/503 with ``Retry-After`` (seconds or an HTTP date): retried no earlier.
* other 5xx, 408, 425, 429, timeouts and network errors: retried with
  exponential backoff, at most ``push_max_attempts`` attempts in all.
* any other answer: given up at once (a retry would get the same).

A push is also given up when it would reach the browser after its TTL
(12 h, 1 h for critical alerts, counted from the alert). A claim counts as
an attempt, so a pusher that dies mid-send is retried within the same bound.
Log lines carry ids and statuses, never the payload.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import psycopg
import requests
from pywebpush import WebPushException, webpush

from alerts import metrics
from alerts.push import remove_subscription
from alerts.vapid import VapidKeys
from hub.db import connect
from hub.settings import Settings
from hub.sql import queries

logger = logging.getLogger(__name__)

GONE = frozenset({404, 410})
#: Answers whose ``Retry-After`` says when to come back.
THROTTLED = frozenset({429, 503})
_RETRYABLE_4XX = frozenset({408, 425, 429})
_MIN_DELAY = timedelta(seconds=1)
_ERROR_LENGTH = 200

Result = Literal["sent", "retrying", "failed", "gone"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int, *, base_s: float, max_s: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling, capped.

    >>> [backoff(n, base_s=30, max_s=200).total_seconds() for n in (1, 2, 3, 4)]
    [30.0, 60.0, 120.0, 200.0]
    """
    return timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), max_s))


def retry_after_delay(value: str | None, *, now: datetime) -> timedelta | None:
    """The wait a ``Retry-After`` header asks for (delay-seconds or HTTP-date).

    >>> now = datetime(2026, 11, 1, 8, tzinfo=UTC)
    >>> retry_after_delay("120", now=now)
    datetime.timedelta(seconds=120)
    >>> retry_after_delay("Sun, 01 Nov 2026 08:05:00 GMT", now=now)
    datetime.timedelta(seconds=300)
    >>> retry_after_delay("soon", now=now) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A due push taken from the outbox; ``attempts`` includes this one."""

    id: int
    alert_id: int
    urgency: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the push service answered (``status`` None: no answer)."""

    status: int | None
    error: str | None = None
    retry_after: str | None = None
    #: No answer, and trying again cannot help (the subscription's keys are unusable).
    permanent: bool = False


@dataclass(slots=True)
class DrainCounts:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    gone: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed + self.gone


class Pusher:
    """Sends the outbox's due pushes; :meth:`run` in a thread, :meth:`drain_once` in tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        vapid: VapidKeys,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._signer = vapid.signer()
        self._clock = clock
        self._session = requests.Session()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()
        self._drop_connection()

    def run(self, stop: threading.Event) -> None:
        """Drain the outbox every ``push_poll_s`` until ``stop`` is set."""
        logger.info("pusher_started")
        while not stop.is_set():
            try:
                self.drain_once()
            except psycopg.OperationalError as exc:
                logger.warning("pusher_database_unavailable", extra={"error": type(exc).__name__})
                self._drop_connection()
            stop.wait(self._settings.push_poll_s)
        logger.info("pusher_stopped")

    def drain_once(self, now: datetime | None = None) -> DrainCounts:
        """Send every push due at ``now`` (default: the clock); count the outcomes."""
        counts = DrainCounts()
        conn = self._connection()
        batch = self._settings.push_batch_size
        while True:
            at = now or self._clock()
            # Long enough for the whole batch to be sent one after another.
            lease = timedelta(seconds=self._settings.push_timeout_s * batch + 30)
            with conn.transaction():
                rows = conn.execute(
                    queries["claim_due_push"],
                    {"now": at, "limit": batch, "lease_until": at + lease},
                ).fetchall()
            gone: set[int] = set()
            for row in sorted(rows, key=lambda r: int(r[0])):
                item = Claimed(*row)
                if item.subscription_id in gone:
                    continue  # deleted with its subscription
                result = self._deliver(conn, item, now or self._clock())
                match result:
                    case "sent":
                        counts.sent += 1
                    case "retrying":
                        counts.retrying += 1
                    case "failed":
                        counts.failed += 1
                    case "gone":
                        counts.gone += 1
                        gone.add(item.subscription_id)
            if len(rows) < batch:
                return counts

    def _deliver(self, conn: psycopg.Connection[Any], item: Claimed, now: datetime) -> Result:
        settings = self._settings
        total_ttl = settings.push_ttl_critical_s if item.urgency == "high" else settings.push_ttl_s
        expires_at = item.created_at + timedelta(seconds=total_ttl)
        ttl = int((expires_at - now).total_seconds())
        if item.attempts > settings.push_max_attempts or ttl <= 0:
            # Its earlier claims lapsed (a pusher died mid-send), or it is stale.
            error = "attempts exhausted" if ttl > 0 else "expired before it was sent"
            outcome = Outcome(status=None, error=error, permanent=True)
            result: Result = "failed"
            with conn.transaction():
                conn.execute(
                    queries["give_up_push"],
                    {"id": item.id, "now": now, "status": None, "error": error},
                )
        else:
            outcome = self._send(item, ttl)
            with conn.transaction():
                result = self._record(conn, item, outcome, now=now, expires_at=expires_at)
        metrics.pushed(result)
        logger.log(
            logging.INFO if result == "sent" else logging.WARNING,
            f"push_{result}",
            extra={
                "outbox_id": item.id,
                "alert_id": item.alert_id,
                "subscription_id": item.subscription_id,
                "push_host": urlsplit(item.endpoint).hostname,
                "status": outcome.status,
                "attempt": item.attempts,
                "error": outcome.error,
            },
        )
        return result

    def _send(self, item: Claimed, ttl: int) -> Outcome:
        timeout = self._settings.push_timeout_s
        try:
            response = webpush(
                subscription_info={
                    "endpoint": item.endpoint,
                    "keys": {"p256dh": item.p256dh, "auth": item.auth},
                },
                data=json.dumps(item.payload, separators=(",", ":")),
                vapid_private_key=self._signer,
                # pywebpush adds aud (the endpoint's origin) and exp (12 h).
                vapid_claims={"sub": self._settings.vapid_subject},
                ttl=ttl,
                headers={"Urgency": item.urgency},
                timeout=timeout,
                requests_session=self._session,
            )
        except WebPushException as exc:
            answer = exc.response
            if answer is None:  # refused before sending: the keys are unusable
                return Outcome(status=None, error=_short(str(exc.message)), permanent=True)
            status = int(answer.status_code)
            return Outcome(
                status=status,
                error=_short(f"HTTP {status} {answer.reason or ''}".strip()),
                retry_after=exc.retry_after,
            )
        except requests.Timeout:
            return Outcome(status=None, error=f"timed out after {timeout:g} s")
        except requests.RequestException as exc:
            return Outcome(status=None, error=_short(f"{type(exc).__name__}: {exc}"))
        except ValueError as exc:  # the subscription's key is not a P-256 point
            return Outcome(status=None, error=_short(f"cannot encrypt: {exc}"), permanent=True)
        return Outcome(status=int(response.status_code))

    def _record(
        self,
        conn: psycopg.Connection[Any],
        item: Claimed,
        outcome: Outcome,
        *,
        now: datetime,
        expires_at: datetime,
    ) -> Result:
        status = outcome.status
        row = {"id": item.id, "now": now, "status": status, "error": outcome.error}
        if status is not None and 200 <= status < 300:
            conn.execute(queries["mark_push_sent"], row)
            conn.execute(
                queries["push_subscription_succeeded"], {"id": item.subscription_id, "now": now}
            )
            return "sent"
        if status in GONE:
            conn.execute(queries["give_up_push"], {**row, "error": "subscription gone"})
            remove_subscription(conn, subscription_id=item.subscription_id, user_id=None)
            return "gone"
        conn.execute(queries["push_subscription_failed"], {"id": item.subscription_id})
        delay = self._retry_delay(item, outcome, now=now)
        if delay is None or now + delay >= expires_at:
            conn.execute(queries["give_up_push"], row)
            return "failed"
        conn.execute(queries["retry_push_later"], {**row, "next_attempt_at": now + delay})
        return "retrying"

    def _retry_delay(self, item: Claimed, outcome: Outcome, *, now: datetime) -> timedelta | None:
        """When to try again, or None to give up."""
        status = outcome.status
        if item.attempts >= self._settings.push_max_attempts or outcome.permanent:
            return None
        if status is not None and status < 500 and status not in _RETRYABLE_4XX:
            return None
        asked = retry_after_delay(outcome.retry_after, now=now) if status in THROTTLED else None
        if asked is None:
            asked = backoff(
                item.attempts,
                base_s=self._settings.push_backoff_s,
                max_s=self._settings.push_backoff_max_s,
            )
        return max(asked, _MIN_DELAY)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._settings)
            self._conn.autocommit = True
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _short(text: str) -> str:
    return text if len(text) <= _ERROR_LENGTH else text[: _ERROR_LENGTH - 1] + "…"
