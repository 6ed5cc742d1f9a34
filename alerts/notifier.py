"""``lastmile notify``: the pusher and the escalation check, as one service.

The pusher drains the push outbox (:mod:`alerts.pusher`); every
``escalation_check_s`` the critical alerts left unacknowledged
``escalation_after_s`` are escalated (:func:`alerts.lifecycle.run_escalations`),
each check in a transaction of its own.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import psycopg

from alerts import metrics
from alerts.lifecycle import run_escalations
from alerts.pusher import Pusher
from alerts.vapid import ensure_vapid_keys
from hub.db import connect
from hub.settings import Settings

log = logging.getLogger(__name__)


def check_escalations(settings: Settings, *, now: datetime) -> int:
    with connect(settings) as conn:
        escalated = run_escalations(
            conn, now=now, after=timedelta(seconds=settings.escalation_after_s)
        )
        conn.commit()
    metrics.escalated(escalated)
    if escalated:
        log.info("alerts escalated", extra={"count": escalated})
    return escalated


def run_notifier(settings: Settings, stop: threading.Event) -> None:
    """Push and escalate until ``stop`` is set."""
    with Pusher(settings, vapid=ensure_vapid_keys(settings)) as pusher:
        thread = threading.Thread(target=pusher.run, args=(stop,), name="pusher", daemon=True)
        thread.start()
        while not stop.is_set():
            try:
                check_escalations(settings, now=datetime.now(UTC))
            except psycopg.OperationalError as exc:
                log.warning("escalation check: database unavailable", extra={"error": str(exc)})
            stop.wait(settings.escalation_check_s)
        thread.join(timeout=30)
