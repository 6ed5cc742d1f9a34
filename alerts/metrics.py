"""Metrics of the alert life cycle and of Web Push (docs/metrics.md).

Alerts are counted by whichever process opens them (the ingest worker for
readings, its schedules and arrival checks; the API for pharmacy uploads),
when the alert's row is written in the caller's transaction: a transaction
that then rolls back and is stored again counts its alerts twice (the
ingest worker's database retries show when that happened). Pushes and
escalations are counted by the notifier once their outcome is committed.
Labels: the alert's kind and severity, and the push's outcome; nothing
about the patient.
"""

from __future__ import annotations

from prometheus_client import Counter

from hub.alerting import AlertKind, Severity

ALERTS_OPENED = Counter(
    "lastmile_alerts_opened",
    "Alerts opened (a new alert, not evidence added to an unresolved one), by kind and severity.",
    ["kind", "severity"],
)
PUSHES = Counter(
    "lastmile_pushes",
    "Web Push deliveries by outcome: sent (the push service accepted it), retrying "
    "(to be tried again later), failed (given up), gone (the subscription no longer exists).",
    ["outcome"],
)
ESCALATIONS = Counter(
    "lastmile_alerts_escalated",
    "Critical alerts escalated because nobody acknowledged them in time.",
)

for _outcome in ("sent", "retrying", "failed", "gone"):
    PUSHES.labels(_outcome)


def alert_opened(kind: AlertKind, severity: Severity) -> None:
    ALERTS_OPENED.labels(kind.value, severity.value).inc()


def pushed(outcome: str) -> None:
    PUSHES.labels(outcome).inc()


def escalated(count: int) -> None:
    ESCALATIONS.inc(count)
