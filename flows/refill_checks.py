"""Refill checks over the database: on the adherence schedule and when fills arrive.

:func:`run_refill_checks` loads the classified fills of the patients to check,
asks :func:`streaming.refills.refill_detections` what they show (beside the
patient's open alerts: an overdue class bearing on one is ``high``), records
what opens a kind or raises its severity (as the non-adherence pass does), and
resolves a patient's ``refill_overdue`` alert once no class is overdue any
more (the refill that arrived ends it), and a ``low_pdc`` alert once no
class's PDC is below its threshold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from alerts.service import record_detection, record_if_raised, resolve_automatically
from hub.alerting import AlertKind, Detection, Severity
from hub.db import Conn
from hub.sql import queries
from streaming.refills import DEFAULT_GRACE_DAYS, PERIOD_DAYS, ClassFill, refill_detections

#: How far back fills are read: the PDC period and a year of supply before it.
LOOKBACK_DAYS = PERIOD_DAYS + 366


def _class_of(reason: str) -> str:
    """The class label a refill reason starts with (``"Loop diuretics: …"``)."""
    return reason.split(":", 1)[0]


def _renamed(
    conn: Conn, found: list[Detection], open_reasons: dict[AlertKind, str], *, now: datetime
) -> int:
    """Give an open overdue alert the class overdue now, if the one it names was refilled."""
    current = open_reasons.get(AlertKind.REFILL_OVERDUE)
    overdue = [d for d in found if d.kind is AlertKind.REFILL_OVERDUE]
    if current is None or not overdue:
        return 0
    if any(_class_of(d.reason) == _class_of(current) for d in overdue):
        return 0
    record_detection(conn, detection=overdue[0], now=now)
    return 1


def run_refill_checks(
    conn: Conn,
    *,
    now: datetime,
    patient_ids: Collection[UUID] | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> int:
    """Check every patient with fills (or only ``patient_ids``); detections recorded."""
    today = now.astimezone(UTC).date()
    fills: dict[UUID, list[ClassFill]] = defaultdict(list)
    params = {
        "since": today - timedelta(days=LOOKBACK_DAYS),
        "all": patient_ids is None,
        "patient_ids": list(patient_ids or ()),
    }
    for patient_id, drug, classes, filled_on, days in conn.execute(queries["refill_fills"], params):
        fills[patient_id].append(ClassFill(drug, frozenset(classes), filled_on, int(days)))
    unresolved: dict[tuple[UUID, AlertKind], Severity] = {}
    deteriorating: dict[UUID, dict[AlertKind, str]] = defaultdict(dict)
    for p, k, sev, reason in conn.execute(
        queries["unresolved_alerts_with_reasons"], {"patient_ids": list(fills)}
    ):
        if k not in AlertKind.__members__.values():
            continue
        unresolved[(p, AlertKind(k))] = Severity(sev)
        deteriorating[p][AlertKind(k)] = str(reason)
    recorded = 0
    for patient_id, mine in fills.items():
        found = refill_detections(
            patient_id,
            mine,
            today=today,
            grace_days=grace_days,
            open_alerts=deteriorating.get(patient_id),
        )
        for d in found:
            recorded += record_if_raised(conn, detection=d, unresolved=unresolved, now=now)
        recorded += _renamed(conn, found, deteriorating.get(patient_id, {}), now=now)
        for kind in (AlertKind.REFILL_OVERDUE, AlertKind.LOW_PDC):
            # A refill ends an overdue class; enough covered days end a low PDC.
            still = any(d.kind is kind for d in found)
            if not still and (patient_id, kind) in unresolved:
                cleared = (
                    "a refill covers every class that was overdue"
                    if kind is AlertKind.REFILL_OVERDUE
                    else "the proportion of days covered is back above its limit"
                )
                resolve_automatically(
                    conn, patient_id=patient_id, kind=kind, now=now, cleared_by=cleared
                )
    return recorded


def check_refills(conn: Conn, patient_ids: Collection[UUID], *, chunk: int = 5000) -> Iterator[int]:
    """The refill checks for the patients an import gave new fills, a chunk at a time.

    Run once after the import rather than per batch (a patient's fills are
    spread over many batches); yields the alerts each chunk recorded, for the
    caller to commit between chunks.
    """
    ids, now = sorted(patient_ids), datetime.now(UTC)
    for start in range(0, len(ids), chunk):
        yield run_refill_checks(conn, now=now, patient_ids=ids[start : start + chunk])
