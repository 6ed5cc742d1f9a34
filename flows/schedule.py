"""Non-adherence on a schedule and on arrival: check, record alerts, clear them.

:func:`run_adherence_checks` is one pass at ``now`` (an injectable clock);
:class:`AdherenceScheduler` runs it every ``interval_s`` in the ingest worker,
over every patient, after marking devices silent (:mod:`devices.lifecycle`),
with the refill checks and the reading-gap check (:mod:`flows.reading_gaps`).
The ingest worker also runs it on arrival, in the batch's transaction, for the
patients whose readings the batch stored (:func:`check_on_arrival`;
:class:`ArrivalChecks` says which are due): a patient who sends weights but
no blood pressure hears about it with the weight, not at the next pass.
A check that finds what an unresolved alert already says records nothing; new
evidence is recorded only when it raises the severity.

Each pass also ends the alerts whose condition is gone (the rules are in
:mod:`streaming.clearing`): a ``resolved_automatically`` event names what
cleared it. On arrival that is judged for every batch, not only when the
patient is due, so the reading that resumes a measure resolves its
missed-readings alert in its own transaction: a backfill (readings measured
in the past, arriving in order) ends with no such alert that its data
disproves, whichever pass opened it on the way (the pass and the batches'
checks share a lock, :func:`hold_checks_lock`, so that neither misses what
the other commits). A gateway's ``online`` resolves its gateway-offline
alerts in the batch that stores it (:func:`clear_gateway_offline`).
Readings measured long before they arrive (:func:`caught_up`) open nothing
on arrival: they may still resolve.

The scheduler also runs the transitional-care checks every interval
(:mod:`flows.tcm_alerts`: a missed deadline opens its alert, a recorded
milestone resolves it), and once a day the billing forecast
(:mod:`flows.forecasts`: low worklist notices, never pushed; :class:`Daily`
says when).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from time import monotonic
from uuid import UUID

import psycopg

from alerts.service import (
    record_if_raised,
    reheadline,
    resolve_automatically,
)
from devices.lifecycle import mark_silent_devices
from flows.forecasts import run_forecast_pass
from flows.reading_gaps import clear_filled_gaps, run_gap_checks
from flows.refill_checks import run_refill_checks
from flows.tcm_alerts import run_tcm_checks
from hub.alerting import AlertKind, Severity
from hub.db import Conn, connect
from hub.domain import Measure
from hub.settings import Settings
from hub.sql import queries
from streaming.adherence_facts import check_patients, offline_detections
from streaming.clearing import (
    CONDITION_KINDS,
    OpenAlert,
    Reheadline,
    Resolve,
    explained_by_open_problems,
    settle,
)

log = logging.getLogger(__name__)


def _open_alerts(
    conn: Conn, *, patient_ids: Collection[UUID] | None
) -> dict[tuple[UUID, AlertKind], OpenAlert]:
    """The unresolved alerts (every patient's, or ``patient_ids``') with their headlines."""
    params = {"all": patient_ids is None, "patient_ids": list(patient_ids or ())}
    found = {}
    for patient_id, kind, severity, measure, observed, since in conn.execute(
        queries["unresolved_alert_headlines"], params
    ):
        if kind not in AlertKind.__members__.values():
            continue
        device = (observed or {}).get("device_id")
        found[(patient_id, AlertKind(kind))] = OpenAlert(
            patient_id,
            AlertKind(kind),
            Severity(severity),
            Measure(measure) if measure else None,
            int(device) if isinstance(device, int | float) else None,
            since,
        )
    return found


#: What each way of running the checks judges: the pass over everyone, the
#: check on arrival when a patient is due, and the clearing on every arrival
#: (no reading counts are read there: a rate recovers over days anyway).
_SCHEDULED = CONDITION_KINDS
_ON_ARRIVAL = CONDITION_KINDS - {AlertKind.GATEWAY_OFFLINE}
_CLEARING = _ON_ARRIVAL - {AlertKind.FREQUENCY_DROP}


def run_adherence_checks(
    conn: Conn,
    *,
    now: datetime,
    gateway_offline_after: timedelta = timedelta(hours=24),
    patient_ids: Collection[UUID] | None = None,
    opening: bool = True,
    open_alerts: Mapping[tuple[UUID, AlertKind], OpenAlert] | None = None,
) -> int:
    """One pass (over ``patient_ids`` only, if given); returns how many detections
    were recorded (new or escalating).

    Unresolved alerts whose condition is gone are resolved, or re-headlined
    (:mod:`streaming.clearing`). Without ``opening``, only that: nothing is
    opened or escalated, and only the patients with an alert to clear are
    checked (on every arrival, cheaply). ``open_alerts``: the unresolved
    alerts of these patients, if the caller read them already.
    """
    judged = _SCHEDULED if patient_ids is None else _ON_ARRIVAL if opening else _CLEARING
    if open_alerts is None:
        open_alerts = _open_alerts(conn, patient_ids=patient_ids)
    clearable = {key: a for key, a in open_alerts.items() if key[1] in judged}
    if not opening:
        patient_ids = sorted({p for p, _ in clearable})
        if not patient_ids:
            return 0
    checked = check_patients(
        conn,
        now=now,
        patient_ids=patient_ids,
        counts=AlertKind.FREQUENCY_DROP in judged,
        health_for={p for p, kind in clearable if kind is AlertKind.GATEWAY_OFFLINE},
    )
    if AlertKind.GATEWAY_OFFLINE in judged:
        for detection in offline_detections(conn, now=now, after=gateway_offline_after):
            checked.found.setdefault(detection.patient_id, []).append(detection)
    mine: dict[UUID, dict[AlertKind, OpenAlert]] = defaultdict(dict)
    for (patient_id, kind), alert in open_alerts.items():
        mine[patient_id][kind] = alert
    recorded = 0
    unresolved = {key: alert.severity for key, alert in open_alerts.items()}
    for patient_id, found in checked.found.items():
        found[:] = explained_by_open_problems(found, mine.get(patient_id, {}))
        if opening:
            for detection in found:
                recorded += record_if_raised(
                    conn, detection=detection, unresolved=unresolved, now=now
                )
    cleared = 0
    for (patient_id, _), alert in sorted(clearable.items(), key=lambda item: str(item[0])):
        facts = checked.facts.get(patient_id)
        if facts is None:
            continue  # a patient with an alert and no record: nothing to judge by
        found = checked.found.get(patient_id, [])
        outcome = settle(alert, found=found, facts=facts, now=now, refresh=opening)
        if isinstance(outcome, Reheadline):
            reheadline(conn, detection=outcome.detection, now=now)
        elif isinstance(outcome, Resolve):
            cleared += resolve_automatically(
                conn,
                patient_id=patient_id,
                kind=alert.kind,
                now=now,
                cleared_by=outcome.cleared_by,
                detail=outcome.detail,
            )
    if cleared:
        log.info("alerts resolved automatically", extra={"resolved": cleared})
    return recorded


def hold_checks_lock(conn: Conn, *, exclusive: bool) -> None:
    """Take the checks' lock for the rest of the transaction.

    The scheduled pass holds it alone (``exclusive``), each batch's checks
    share it. Without it, a pass that read a patient's facts before a batch
    committed readings that clear a condition could open that alert after the
    batch's checks looked for it: an alert the stored data disproves, open
    until the next pass. With it, either the pass sees the batch's readings,
    or the batch's checks see the pass's alert.
    """
    conn.execute(queries["checks_lock" if exclusive else "checks_lock_shared"])


def check_on_arrival(
    conn: Conn,
    *,
    now: datetime,
    due: Collection[UUID],
    others: Collection[UUID],
    back_online: Sequence[tuple[str, datetime]] = (),
) -> int:
    """The checks for the patients whose readings a batch stored, in its transaction.

    The ``due`` ones get the whole check (:class:`ArrivalChecks` says who);
    for the ``others`` only what their readings may have cleared is judged
    (missed readings, device problems, devices never active), so that the
    reading that ends a condition ends its alert. Filled reading gaps clear
    for all of them, and gateway-offline alerts for the gateways
    ``back_online`` (each with the time its ``online`` arrived). Returns the
    detections recorded.
    """
    hold_checks_lock(conn, exclusive=False)
    for gateway_id, at in back_online:
        clear_gateway_offline(conn, gateway_id=gateway_id, at=at)
    if not due and not others:
        return 0
    # One look at their unresolved alerts says what more there is to do.
    open_alerts = _open_alerts(conn, patient_ids=[*due, *others])
    recorded = 0
    checked_in_full = set(due)
    if due:
        mine = {key: a for key, a in open_alerts.items() if key[0] in checked_in_full}
        recorded += run_adherence_checks(conn, now=now, patient_ids=due, open_alerts=mine)
    rest = {key: a for key, a in open_alerts.items() if key[0] not in checked_in_full}
    if rest:
        run_adherence_checks(conn, now=now, patient_ids=others, opening=False, open_alerts=rest)
    gaps = {p for p, kind in open_alerts if kind is AlertKind.READING_GAP}
    if gaps:
        clear_filled_gaps(conn, now=now, patient_ids=sorted(gaps))
    return recorded


def clear_gateway_offline(conn: Conn, *, gateway_id: str, at: datetime) -> int:
    """The gateway said ``online`` at ``at``: resolve its patients' gateway-offline alerts.

    Only for the patients with no other gateway offline; returns how many.
    """
    cleared = 0
    for (patient_id,) in conn.execute(queries["patients_back_online"], {"id": gateway_id}):
        cleared += resolve_automatically(
            conn,
            patient_id=patient_id,
            kind=AlertKind.GATEWAY_OFFLINE,
            now=at,
            cleared_by=f"gateway {gateway_id} reported online at "
            f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            detail={"gateway_ids": [gateway_id]},
        )
    return cleared


#: A patient whose newest reading in a batch was measured longer than this
#: before the batch arrived is catching up (a backfill, a gateway emptying its
#: outbox after an outage): more of their readings are on the way.
CATCHING_UP = timedelta(hours=1)


def caught_up(newest: Mapping[UUID, datetime], *, now: datetime) -> list[UUID]:
    """The patients whose newest reading (``newest``, measured) is recent at ``now``.

    Only they are checked in full on arrival: a backfill that starts 30 days
    ago says nothing about what is missing now until it reaches the present
    (the scheduled pass checks everyone anyway).

    >>> t = datetime(2026, 12, 7, 12, tzinfo=UTC)
    >>> caught_up({UUID(int=1): t - timedelta(minutes=5), UUID(int=2): t - timedelta(days=30)},
    ...           now=t)
    [UUID('00000000-0000-0000-0000-000000000001')]
    """
    return sorted(p for p, at in newest.items() if now - at <= CATCHING_UP)


class ArrivalChecks:
    """Which patients whose readings arrive are due for the checks on arrival.

    Each patient at most once every ``interval_s`` (monotonic clock,
    injectable): a morning's three readings make one check, not three.
    """

    def __init__(self, *, interval_s: float, clock: Callable[[], float] = monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._checked: dict[UUID, float] = {}

    def due(self, patient_ids: Iterable[UUID]) -> list[UUID]:
        now = self._clock()
        return sorted(
            p for p in set(patient_ids) if now - self._checked.get(p, -math.inf) >= self._interval_s
        )

    def checked(self, patient_ids: Iterable[UUID]) -> None:
        """Mark them checked (after the transaction that checked them committed)."""
        now = self._clock()
        for p in patient_ids:
            self._checked[p] = now


class Daily:
    """Whether a daily pass is due: at the first interval, then once each UTC day.

    Kept in memory: a restarted worker runs it again, which the passes allow
    (they are idempotent).

    >>> daily, t = Daily(), datetime(2026, 3, 2, 23, 50, tzinfo=UTC)
    >>> daily.due(t), daily.done(t), daily.due(t + timedelta(minutes=5))
    (True, None, False)
    >>> daily.due(t + timedelta(minutes=15))  # 00:05 the next day
    True
    """

    def __init__(self) -> None:
        self._last: date | None = None

    def due(self, now: datetime) -> bool:
        return self._last != now.astimezone(UTC).date()

    def done(self, now: datetime) -> None:
        self._last = now.astimezone(UTC).date()


class AdherenceScheduler:
    """Runs the scheduled passes on its own connection: every ``interval_s``
    :func:`run_adherence_checks`, the gap, refill and transitional-care checks;
    once a day the billing forecast."""

    def __init__(
        self,
        settings: Settings,
        *,
        interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._interval_s = interval_s
        self._clock = clock
        self._forecast = Daily()

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval_s):
            try:
                now = self._clock()
                with connect(self._settings) as conn:
                    with conn.transaction():
                        mark_silent_devices(conn, now=now)
                    with conn.transaction():
                        hold_checks_lock(conn, exclusive=True)
                        recorded = run_adherence_checks(conn, now=now)
                        recorded += run_gap_checks(conn, now=now)
                    with conn.transaction():
                        recorded += run_refill_checks(conn, now=now)
                    with conn.transaction():
                        recorded += run_tcm_checks(conn, now=now)
                    if self._forecast.due(now):
                        with conn.transaction():
                            result = run_forecast_pass(
                                conn, now=now, reader=lambda: connect(self._settings)
                            )
                        self._forecast.done(now)
                        log.info("billing forecast", extra=asdict(result))
                if recorded:
                    log.info("adherence alerts recorded", extra={"recorded": recorded})
            except psycopg.Error:
                log.exception("adherence check failed; next try in the next interval")
