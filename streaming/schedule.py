"""Non-adherence on a schedule and on arrival: gather the facts, check, record alerts.

:func:`run_adherence_checks` is one pass at ``now`` (an injectable clock);
:class:`AdherenceScheduler` runs it every ``interval_s`` in the ingest worker,
over every patient, after marking devices silent (:mod:`devices.lifecycle`),
with the refill checks and the reading-gap check (:mod:`streaming.reading_gaps`).
The ingest worker also runs it on arrival, in the batch's transaction, for the
patients whose readings the batch stored
(:class:`ArrivalChecks` says which are due): a patient who sends weights but
no blood pressure hears about it with the weight, not at the next pass.
A check that finds what an unresolved alert already says records nothing; new
evidence is recorded only when it raises the severity.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from uuid import UUID

import psycopg

from alerts.service import record_detection, resolve_automatically
from devices.lifecycle import mark_silent_devices
from hub.db import Conn, connect
from hub.domain import DeviceKind, Measure
from hub.settings import Settings
from hub.sql import queries
from streaming.adherence import DeviceActivity, MeasureActivity, check_adherence, frequency_windows
from streaming.device_health import DeviceHealth, explain_missed
from streaming.models import AlertKind, Detection, Severity, severity_rank
from streaming.pathways import get_pathway
from streaming.reading_gaps import run_gap_checks

log = logging.getLogger(__name__)


def raises_evidence(current: Severity | None, new: Severity) -> bool:
    """Whether a scheduled detection is worth recording: it opens its kind or is more severe.

    >>> raises_evidence(None, Severity.LOW), raises_evidence(Severity.LOW, Severity.LOW)
    (True, False)
    """
    return current is None or severity_rank(new) > severity_rank(current)


def record_if_raised(
    conn: Conn,
    *,
    detection: Detection,
    unresolved: dict[tuple[UUID, AlertKind], Severity],
    now: datetime,
) -> bool:
    """Record ``detection`` if it opens its kind or raises the unresolved alert's severity.

    ``unresolved`` (severity per patient and kind) is kept up to date.
    """
    key = (detection.patient_id, detection.kind)
    if not raises_evidence(unresolved.get(key), detection.severity):
        return False
    record_detection(conn, detection=detection, now=now)
    unresolved[key] = detection.severity
    return True


def _offline_detections(conn: Conn, *, now: datetime, after: timedelta) -> list[Detection]:
    found = []
    for gateway_id, since, patient_id in conn.execute(
        queries["offline_gateways"], {"before": now - after}
    ).fetchall():
        hours = (now - since) / timedelta(hours=1)
        found.append(
            Detection(
                patient_id=patient_id,
                kind=AlertKind.GATEWAY_OFFLINE,
                severity=Severity.MEDIUM,
                source="rule:gateway_offline",
                measure=None,
                observed={"hours_offline": round(hours, 1)},
                baseline={"threshold_hours": after / timedelta(hours=1)},
                window_start=since,
                window_end=now,
                reason=f"gateway {gateway_id} has been offline for {hours:.0f} h "
                "(its Last Will): the patient's devices cannot send readings",
            )
        )
    return found


#: How far back each pass looks for new latest measurements; a reading that
#: arrives later than this after it was measured cannot be anyone's latest.
LATEST_LOOKBACK = timedelta(days=35)


def refresh_latest(conn: Conn, *, now: datetime) -> None:
    """Bring ``measure_latest`` up to date from the recent readings."""
    conn.execute(queries["refresh_measure_latest"], {"since": now - LATEST_LOOKBACK})


#: The named queries of one pass: over every patient, or over some (on arrival).
_EVERYONE = ("adherence_patients", "adherence_latest", "adherence_recent_readings",
             "adherence_devices", "unresolved_alert_kinds")  # fmt: skip
_SOME = ("arrival_patients", "arrival_latest", "arrival_recent_readings",
         "arrival_devices", "arrival_unresolved_alert_kinds")  # fmt: skip


def adherence_detections(
    conn: Conn,
    *,
    now: datetime,
    gateway_offline_after: timedelta,
    patient_ids: Collection[UUID] | None = None,
) -> list[Detection]:
    """Every non-adherence detection at ``now``, before de-duplication.

    With ``patient_ids``, only theirs, and no gateway checks (their readings
    are arriving).
    """
    some = patient_ids is not None
    q_patients, q_latest, q_recent, q_devices, _ = _SOME if some else _EVERYONE
    only: dict[str, object] = {"patient_ids": list(patient_ids or ())}
    if not some:
        refresh_latest(conn, now=now)
    patients = conn.execute(queries[q_patients], only).fetchall()
    latest: dict[UUID, dict[Measure, datetime]] = defaultdict(dict)
    for patient_id, measure, at in conn.execute(
        queries[q_latest], {**only, "since": now - LATEST_LOOKBACK}
    ).fetchall():
        latest[patient_id][Measure(measure)] = at
    pathways = {name: get_pathway(name) for name in {str(p[1]) for p in patients}}
    earliest = min((frequency_windows(p, now)[1][0] for p in pathways.values()), default=now)
    times: dict[tuple[UUID, Measure], list[datetime]] = defaultdict(list)
    for patient_id, measure, at in conn.execute(
        queries[q_recent], {**only, "since": earliest, "until": now}
    ).fetchall():
        times[(patient_id, Measure(measure))].append(at)
    devices: dict[UUID, list[DeviceActivity]] = defaultdict(list)
    for patient_id, device_id, activated_at, registered_at in conn.execute(
        queries[q_devices], only
    ).fetchall():
        devices[patient_id].append(DeviceActivity(int(device_id), activated_at, registered_at))

    found: list[Detection] = []
    for patient_id, pathway_name, enrolled_at, discharge_date in patients:
        pathway = pathways[str(pathway_name)]
        (recent_start, _), (previous_start, split) = frequency_windows(pathway, now)
        activity = {}
        for measure in Measure:
            seen = times.get((patient_id, measure), [])
            activity[measure] = MeasureActivity(
                latest[patient_id].get(measure),
                recent_count=sum(1 for t in seen if t >= recent_start),
                previous_count=sum(1 for t in seen if previous_start <= t < split),
            )
        discharged_at = (
            datetime.combine(discharge_date, time(), tzinfo=UTC) if discharge_date else None
        )
        found += check_adherence(
            patient_id=patient_id,
            pathway=pathway,
            enrolled_at=enrolled_at,
            now=now,
            measures=activity,
            devices=devices.get(patient_id, ()),
            discharged_at=discharged_at,
        )
    # Device facts are read only for the patients whose readings are missed.
    missed = {d.patient_id for d in found if d.kind is AlertKind.MISSED_READINGS}
    if missed:
        health = _device_health(conn, patient_ids=missed)
        by_patient = {p[0]: pathways[str(p[1])] for p in patients}
        found = [
            explain_missed(
                d, devices=health.get(d.patient_id, ()), pathway=by_patient[d.patient_id], now=now
            )
            for d in found
        ]
    if some:
        return found
    return found + _offline_detections(conn, now=now, after=gateway_offline_after)


def _device_health(conn: Conn, *, patient_ids: Collection[UUID]) -> dict[UUID, list[DeviceHealth]]:
    """Each patient's usable devices with their battery and gateway presence."""
    health: dict[UUID, list[DeviceHealth]] = defaultdict(list)
    rows = conn.execute(queries["device_health"], {"patient_ids": list(patient_ids)})
    for patient_id, serial, kind, gateway_id, battery, reported_at, presence, since in rows:
        health[patient_id].append(
            DeviceHealth(
                serial=serial,
                measures=DeviceKind(kind).measures,
                gateway_id=gateway_id,
                battery_percent=battery,
                battery_reported_at=reported_at,
                gateway_offline_since=since if presence == "offline" else None,
            )
        )
    return health


def run_adherence_checks(
    conn: Conn,
    *,
    now: datetime,
    gateway_offline_after: timedelta = timedelta(hours=24),
    patient_ids: Collection[UUID] | None = None,
) -> int:
    """One pass (over ``patient_ids`` only, if given); returns how many detections
    were recorded (new or escalating)."""
    query = (_EVERYONE if patient_ids is None else _SOME)[-1]
    unresolved = {
        (patient_id, AlertKind(kind)): Severity(severity)
        for patient_id, kind, severity in conn.execute(
            queries[query], {"patient_ids": list(patient_ids or ())}
        )
        if kind in AlertKind.__members__.values()
    }
    recorded = 0
    for detection in adherence_detections(
        conn, now=now, gateway_offline_after=gateway_offline_after, patient_ids=patient_ids
    ):
        recorded += record_if_raised(conn, detection=detection, unresolved=unresolved, now=now)
        missed = (detection.patient_id, AlertKind.MISSED_READINGS)
        if detection.kind is AlertKind.DEVICE_PROBLEM and missed in unresolved:
            # The device explains the missed readings: one alert, about the device.
            resolve_automatically(
                conn,
                patient_id=detection.patient_id,
                kind=missed[1],
                now=now,
                cleared_by=f"explained by a device problem: {detection.reason}",
            )
            del unresolved[missed]
    return recorded


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


class AdherenceScheduler:
    """Runs :func:`run_adherence_checks` every ``interval_s`` on its own connection."""

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

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval_s):
            try:
                from streaming.refill_checks import run_refill_checks  # it imports this module

                now = self._clock()
                with connect(self._settings) as conn:
                    with conn.transaction():
                        mark_silent_devices(conn, now=now)
                    with conn.transaction():
                        recorded = run_adherence_checks(conn, now=now)
                        recorded += run_refill_checks(conn, now=now)
                        recorded += run_gap_checks(conn, now=now)
                if recorded:
                    log.info("adherence alerts recorded", extra={"recorded": recorded})
            except psycopg.Error:
                log.exception("adherence check failed; next try in the next interval")
