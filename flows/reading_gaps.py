"""Readings a device numbered but that never arrived: the ``reading_gap`` alert.

A device may number its readings (``header.lastmile_sequence``, a count it
increments for every reading it produces; docs/integration.md section 4).
The hub stores the number with the reading; this periodic check looks, per
device, at the numbers of the readings measured in the last
:data:`LOOKBACK` and reports each hole between two numbers it has, once the
reading after the hole has been in the database for :data:`GRACE` (a
gateway's outbox resends fill most holes within minutes). Each hole is
reported once (table ``reading_gaps``), as evidence on the patient's
``reading_gap`` alert (low severity). A hole wider than :data:`MAX_HOLE` is
taken for a counter that started again (a reset or a new device), not for
lost readings.

**Clearing.** The alert is resolved automatically once every hole reported
since it opened is filled (every missing number has arrived: a late resend),
by :func:`clear_filled_gaps`, which the periodic check runs after reporting
and the ingest worker runs on every batch of the patient (in the batch's
transaction, so the resend that fills the last hole resolves the alert). Its
``resolved_automatically`` event names the holes that were filled. While some
hole is still open the alert stays; if its headline names a filled hole, it
is re-headlined to the newest hole still open.

>>> holes([(1, 0), (2, 0), (5, 0), (6, 0), (9, 0)])
[(3, 4, 0, 0), (7, 8, 0, 0)]
>>> holes([(7, 0), (7, 0), (8, 0)])
[]
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from alerts.service import record_detection, reheadline, resolve_automatically
from hub.alerting import AlertKind, Detection, Severity
from hub.db import Conn
from hub.sql import queries

#: How long a hole may stay open before it is reported: resends fill holes.
GRACE = timedelta(hours=1)
#: How far back (measurement time) the check looks.
LOOKBACK = timedelta(days=7)
#: A wider hole is a counter that started again, not lost readings.
MAX_HOLE = 10_000

T = TypeVar("T")


def holes(numbered: Sequence[tuple[int, T]]) -> list[tuple[int, int, T, T]]:
    """``(first missing, last missing, item before, item after)`` of each hole.

    ``numbered`` is ``(sequence number, item)`` sorted by number.
    """
    found = []
    for (a, before), (b, after) in itertools.pairwise(numbered):
        if 1 < b - a <= MAX_HOLE + 1:
            found.append((a + 1, b - 1, before, after))
    return found


@dataclass(frozen=True, slots=True)
class _Reading:
    serial: str
    patient_id: UUID
    measured_at: datetime
    received_at: datetime


def _reason(serial: str, first: int, last: int) -> str:
    """One sentence for the coordinator.

    >>> _reason("SC-1", 41, 43)
    'device SC-1: readings 41 to 43 of its sequence never arrived'
    >>> _reason("SC-1", 7, 7)
    'device SC-1: reading 7 of its sequence never arrived'
    """
    which = f"reading {first}" if first == last else f"readings {first} to {last}"
    return f"device {serial}: {which} of its sequence never arrived"


def _covered(hole: tuple[int, int], reported: Iterable[tuple[int, int]]) -> bool:
    return any(lo <= hole[0] and hole[1] <= hi for lo, hi in reported)


def run_gap_checks(conn: Conn, *, now: datetime, grace: timedelta = GRACE) -> int:
    """Report the holes older than ``grace`` not reported yet; how many were recorded."""
    by_device: dict[int, list[tuple[int, _Reading]]] = defaultdict(list)
    for device_id, serial, patient_id, sequence, measured_at, received_at in conn.execute(
        queries["gap_sequences"], {"since": now - LOOKBACK}
    ):
        reading = _Reading(serial, patient_id, measured_at, received_at)
        by_device[int(device_id)].append((int(sequence), reading))
    found = {
        device_id: [h for h in holes(numbered) if h[3].received_at <= now - grace]
        for device_id, numbered in by_device.items()
    }
    found = {device_id: hs for device_id, hs in found.items() if hs}
    if not found:
        return 0
    reported: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for device_id, first, last in conn.execute(
        queries["reported_gaps"], {"device_ids": list(found)}
    ):
        reported[int(device_id)].append((int(first), int(last)))
    recorded = 0
    for device_id, device_holes in found.items():
        for first, last, before, after in device_holes:
            if _covered((first, last), reported[device_id]):
                continue
            detection = _detection(first, last, before, after, grace=grace)
            record_detection(conn, detection=detection, now=now)
            conn.execute(
                queries["insert_reading_gap"],
                {"device_id": device_id, "first_missing": first, "last_missing": last, "now": now},
            )
            recorded += 1
    clear_filled_gaps(conn, now=now)
    return recorded


@dataclass(frozen=True, slots=True)
class _Hole:
    serial: str
    first: int
    last: int
    filled: bool
    before: datetime | None
    after: datetime | None


def _filled(holes: Sequence[_Hole]) -> str:
    """What cleared the alert.

    >>> _filled([_Hole("SC-1", 41, 43, True, None, None), _Hole("SC-1", 7, 7, True, None, None)])
    'the missing readings arrived: device SC-1 readings 41 to 43, device SC-1 reading 7'
    """
    named = ", ".join(
        f"device {h.serial} "
        + (f"reading {h.first}" if h.first == h.last else f"readings {h.first} to {h.last}")
        for h in holes
    )
    return f"the missing readings arrived: {named}"


def clear_filled_gaps(
    conn: Conn, *, now: datetime, patient_ids: Collection[UUID] | None = None
) -> int:
    """Resolve the reading-gap alerts whose holes are all filled; how many were resolved.

    Every unresolved one, or only ``patient_ids``'.
    """
    params = {
        "all": patient_ids is None,
        "patient_ids": list(patient_ids or ()),
        "lookback": LOOKBACK,
    }
    holes: dict[UUID, list[_Hole]] = defaultdict(list)
    headlines: dict[UUID, str] = {}
    for patient_id, reason, serial, first, last, arrived, before, after in conn.execute(
        queries["gaps_of_open_alerts"], params
    ):
        size = int(last) - int(first) + 1
        hole = _Hole(serial, int(first), int(last), int(arrived) >= size, before, after)
        holes[patient_id].append(hole)
        headlines[patient_id] = str(reason)
    resolved = 0
    for patient_id, mine in holes.items():
        still = [h for h in mine if not h.filled]
        if not still:
            resolved += resolve_automatically(
                conn,
                patient_id=patient_id,
                kind=AlertKind.READING_GAP,
                now=now,
                cleared_by=_filled(mine),
                detail={"filled": [[h.serial, h.first, h.last] for h in mine]},
            )
            continue
        newest = still[-1]
        if headlines[patient_id] in {_reason(h.serial, h.first, h.last) for h in still}:
            continue
        if newest.before is not None and newest.after is not None:
            before = _Reading(newest.serial, patient_id, newest.before, newest.before)
            after = _Reading(newest.serial, patient_id, newest.after, newest.after)
            detection = _detection(newest.first, newest.last, before, after, grace=GRACE)
            reheadline(conn, detection=detection, now=now)
    return resolved


def _detection(
    first: int, last: int, before: _Reading, after: _Reading, *, grace: timedelta
) -> Detection:
    return Detection(
        patient_id=after.patient_id,
        kind=AlertKind.READING_GAP,
        severity=Severity.LOW,
        source="rule:reading_gap",
        measure=None,
        observed={"first_missing": first, "last_missing": last, "missing": last - first + 1},
        baseline={"grace_hours": grace / timedelta(hours=1)},
        window_start=before.measured_at,
        window_end=after.measured_at,
        reason=_reason(after.serial, first, last),
    )
