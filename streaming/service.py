"""Detection inside the ingest transaction, with checkpoints that commit with it.

The ingest worker keeps a :class:`MonitorCache`. For each batch it loads the
monitors of the batch's patients *before* the new readings are inserted, feeds
them the rows the insert actually added, in arrival order, and the alerts they
raise are written in the same transaction. Redelivered readings insert
nothing and so are never scored twice.

A monitor's checkpoint names the last reading it covers (arrival order:
received, measured, device, measure). Checkpoints are written with the batch
that makes them due (every ``checkpoint_every`` readings or
``checkpoint_interval_s`` seconds per patient), not with every batch: loading
a monitor replays, without alerting, the stored readings after its checkpoint
— their alerts committed with them — so a monitor after a crash is exactly
the one an uninterrupted run would hold. With no checkpoint, the whole stored
history is replayed (cold start). If a transaction fails,
:meth:`MonitorCache.rolled_back` forgets the monitors it touched.

Closures
    :meth:`MonitorCache.process` returns, in the order the readings showed
    them, the detections and the :class:`~hub.alerting.Closure` of each
    kind whose episode ended; the writer resolves that kind's alert
    automatically in the batch's transaction. Closures raised while catching
    up are dropped: their alerts were resolved when those readings were
    stored (so are any a checkpoint of an older version still holds).

Resolutions reach the monitors (state-based)
    An alert of a monitor's kinds is opened only by that monitor's own
    detections, in the transaction of the readings that raised them; so a
    kind a monitor holds open with no unresolved alert of that kind in the
    database is one whose alert was resolved since (by a coordinator or
    otherwise). Each time a batch loads its patients — before any of the
    batch's readings is scored, after a restored monitor has caught up —
    every such kind is resolved in the monitor (:meth:`PatientMonitor.resolve
    <streaming.engine.PatientMonitor.resolve>`: its detectors re-arm). That
    is one query per batch on the alerts' partial unique index, and only for
    the batch's patients whose monitors hold a kind open (none, most of the
    time). A resolution therefore applies before the first reading of that
    patient scored after the resolution committed; one that commits while a
    batch is being scored applies with the next. A kind the monitor closed
    itself (a closure) is not open any more, so it is never resolved again.
    A late reading's detection opens an alert without opening its kind in the
    monitor; the reconciliation only ever closes kinds, so it leaves that be.
    If a resolution commits while a batch that raises the same kind's
    severity is being scored, that detection finds no unresolved alert and
    opens a new one, which then carries the monitor's episode on.

    Replay equals live: replay knows nothing of resolutions, so a monitor
    changed by one is checkpointed in the transaction of the batch that
    found the resolution (or, if that batch scored nothing, of the next one
    that does): :meth:`MonitorCache.due_checkpoints` forces it. The readings
    after a monitor's latest checkpoint were thus all scored without a
    resolution between them, and a crash before that checkpoint commits
    leaves the resolution to be found again at the same point of the
    patient's stream. (Interleaving resolutions with replayed readings by
    their timestamps would not be exact: the API's clock stamps a resolution
    before it commits, and the worker's stamps the readings, so a replay
    could put one on the other side of a reading than the live monitor did.)
    Only a rebuild from the whole history after a detector-code change
    cannot know where past resolutions fell: the rebuilt monitor is
    reconciled as above, which closes what the database has resolved.

Several workers (``catch_up``)
    Another worker may have stored a patient's readings since this cache
    scored that patient's last (docs/scaling.md). The batch holds its
    patients' locks (:mod:`flows.patient_order`), so what they committed
    is all there is; each batch then brings its patients' monitors up to
    date before scoring: from the patient's checkpoint if it stands later
    than the monitor (a monitor restored from it is what this one would be
    after the same readings, and has any resolution another worker applied
    in between), and by replaying the stored readings after the monitor's
    position, as a restore does, if the patient's stored readings end later
    than the monitor (``patient_streams``). One query by primary key per
    batch, and one for the readings of the monitors that are behind.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol
from uuid import UUID

from hub.alerting import AlertKind, Closure, Detection, Severity, StreamReading
from hub.db import Conn
from hub.reading_row import scoring_row
from hub.sql import queries
from streaming.checkpoints import Checkpoint
from streaming.rows import Position, position_of, stream_reading

log = logging.getLogger(__name__)


class Monitor(Protocol):
    """A patient's detectors: what the cache stores and checkpoints.

    A monitor that keeps no episodes (the weight rule of thumb) has no open
    kinds, ignores :meth:`resolve` and has no closures.
    """

    def process(self, reading: StreamReading) -> list[Detection]: ...

    @property
    def open_kinds(self) -> Mapping[AlertKind, Severity]:
        """The kinds it reported whose episodes are still open."""
        ...

    def resolve(self, kind: AlertKind) -> None:
        """The alert of ``kind`` was resolved: close its episode (if open)."""

    def pop_closures(self) -> list[Closure]:
        """The kinds whose episodes ended since the last call."""
        ...


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What a patient's monitor is built from."""

    pathway: str = "default"
    timezone: str = "UTC"
    overrides: Mapping[str, float | int | str] = field(default_factory=dict)


#: Builds a fresh monitor for a patient.
MonitorFactory = Callable[[UUID, Enrolment], Monitor]


@dataclass(slots=True)
class _Entry:
    monitor: Monitor
    covered: int  # readings the state has seen
    position: Position | None  # the last of them
    checkpointed_covered: int  # ``covered`` at the last checkpoint
    checkpointed_at: float  # monotonic time of the last checkpoint (or load)
    resolved: bool = False  # an alert resolution changed it since the last checkpoint


#: The order of UUIDs as a sort key (``UUID.__lt__`` compares these integers).
_UUID_ORDER = attrgetter("int")


def _first(pair: tuple[Position, StreamReading]) -> Position:
    return pair[0]


class MonitorCache:
    """Committed per-patient monitors; checkpoints plus stored readings are the truth."""

    def __init__(
        self,
        *,
        factory: MonitorFactory,
        code_version: int,
        checkpoint_every: int = 50,
        checkpoint_interval_s: float = 300.0,
        catch_up: bool = False,
    ) -> None:
        self._factory = factory
        self._catch_up_on_load = catch_up
        self._code_version = code_version
        self._every = checkpoint_every
        self._interval_s = checkpoint_interval_s
        self._entries: dict[UUID, _Entry] = {}
        self._touched: set[UUID] = set()

    def load(self, conn: Conn, *, patient_ids: Iterable[UUID]) -> None:
        """Bring the monitors of these patients into memory and in step with their alerts.

        Called before the batch's readings are scored (before the insert, on
        the batch's own connection); see the module docstring.
        """
        wanted = set(patient_ids)
        if self._catch_up_on_load:
            self._follow(conn, sorted(wanted & self._entries.keys(), key=_UUID_ORDER))
        self._restore(conn, sorted(wanted - self._entries.keys()))
        self._reconcile(conn, wanted)

    def _follow(self, conn: Conn, present: list[UUID]) -> None:
        """Bring monitors in memory up to what other workers stored (see "Several workers")."""
        if not present:
            return
        entries = self._entries
        behind: dict[UUID, _Entry] = {}
        rows = conn.execute(queries["stream_positions"], {"patient_ids": present}).fetchall()
        for patient_id, version, c_received, c_measured, c_device, c_measure, *head in rows:
            position = entries[patient_id].position
            if (
                version == self._code_version
                and c_received is not None
                and (
                    position is None
                    or (c_received, c_measured, int(c_device), c_measure) > position
                )
            ):
                del entries[patient_id]  # restored from that checkpoint
            elif (
                head[0] is None or position is None or (*head[:2], int(head[2]), head[3]) > position
            ):
                behind[patient_id] = entries[patient_id]
        if behind:
            # Every batch of a worker of several: too common to log at INFO.
            self._catch_up(conn, behind, level=logging.DEBUG)
            for entry in behind.values():
                entry.monitor.pop_closures()  # applied when those readings were stored

    def _restore(self, conn: Conn, missing: list[UUID]) -> None:
        """Checkpoint (or a fresh monitor) plus the stored readings after it."""
        if not missing:
            return
        rows = conn.execute(queries["checkpoints_for_patients"], {"patient_ids": missing})
        checkpoints = {row[0]: row for row in rows.fetchall()}
        enrolments = {
            row[0]: Enrolment(str(row[1]), str(row[2]), row[3] or {})
            for row in conn.execute(queries["pathways_for_patients"], {"patient_ids": missing})
        }
        now = time.monotonic()
        loaded: dict[UUID, _Entry] = {}
        for patient_id in missing:
            row = checkpoints.get(patient_id)
            if row is not None and row[2] == self._code_version:
                _, state, _, covered, received, measured, device, measure = row
                monitor: Monitor = pickle.loads(state)  # noqa: S301 - the hub's own state
                position = (received, measured, int(device), str(measure))
                loaded[patient_id] = _Entry(monitor, int(covered), position, int(covered), now)
            else:
                monitor = self._factory(patient_id, enrolments.get(patient_id, Enrolment()))
                loaded[patient_id] = _Entry(monitor, 0, None, 0, now)
        self._catch_up(conn, loaded)
        for entry in loaded.values():
            entry.monitor.pop_closures()  # applied when those readings were stored
        self._entries.update(loaded)

    def _reconcile(self, conn: Conn, patient_ids: set[UUID]) -> None:
        """Resolve in each monitor the open kinds whose alerts are resolved."""
        entries = self._entries
        holding = sorted(p for p in patient_ids if entries[p].monitor.open_kinds)
        if not holding:
            return
        rows = conn.execute(queries["unresolved_alert_kinds_of"], {"patient_ids": holding})
        unresolved = {(patient_id, str(kind)) for patient_id, kind in rows.fetchall()}
        for patient_id in holding:
            entry = entries[patient_id]
            kinds = entry.monitor.open_kinds
            for kind in [k for k in kinds if (patient_id, k.value) not in unresolved]:
                entry.monitor.resolve(kind)
                entry.resolved = True
                self._touched.add(patient_id)  # a rollback forgets it
                log.info(
                    "alert resolution reached the detectors",
                    extra={"patient_id": str(patient_id), "kind": kind.value},
                )

    def _catch_up(
        self, conn: Conn, entries: dict[UUID, _Entry], *, level: int = logging.INFO
    ) -> None:
        """Replay the stored readings after each entry's position; their alerts exist."""
        positions = [entry.position or (None, None, None, None) for entry in entries.values()]
        params = {
            "patient_ids": list(entries),
            "received": [p[0] for p in positions],
            "measured": [p[1] for p in positions],
            "devices": [p[2] for p in positions],
            "measures": [p[3] for p in positions],
        }
        replayed: dict[UUID, int] = {}
        with conn.cursor(row_factory=scoring_row) as cur:
            rows = cur.execute(queries["readings_after_positions"], params).fetchall()
        for row in rows:
            reading = stream_reading(row)
            entry = entries[reading.patient_id]
            entry.monitor.process(reading)
            entry.covered += 1
            entry.position = position_of(reading)
            replayed[reading.patient_id] = replayed.get(reading.patient_id, 0) + 1
        for patient_id, count in replayed.items():
            log.log(
                level,
                "detector state caught up",
                extra={"patient_id": str(patient_id), "replayed": count},
            )

    def process(self, readings: Iterable[StreamReading]) -> list[Detection | Closure]:
        """Score newly stored readings in arrival order; monitors must be loaded.

        What they show, in order: each reading's detections, then the
        closures it caused (an alert closed and another of its kind opened in
        one batch must be written in that order).
        """
        shown: list[Detection | Closure] = []
        entries, touched = self._entries, self._touched
        for position, reading in sorted(((position_of(r), r) for r in readings), key=_first):
            entry = entries[reading.patient_id]
            monitor = entry.monitor
            found = monitor.process(reading)
            if found:
                shown.extend(found)
            closed = monitor.pop_closures()
            if closed:
                shown.extend(closed)
            entry.covered += 1
            entry.position = position
            touched.add(reading.patient_id)
        return shown

    def due_checkpoints(self, *, force: bool = False) -> list[Checkpoint]:
        """The checkpoints that are due (all touched ones with ``force``), pickled.

        A monitor an alert resolution changed is always due (see "replay
        equals live" in the module docstring). They count as written from
        here on: the caller writes them in the batch's transaction, and if
        that fails :meth:`rolled_back` forgets the monitors anyway.
        """
        clock = time.monotonic()
        due: list[Checkpoint] = []
        # Key order (writers lock rows in one order); by the UUIDs' integers, the same
        # order as comparing UUIDs, without a Python-level comparison per pair.
        for patient_id in sorted(self._touched, key=_UUID_ORDER):
            entry = self._entries[patient_id]
            if entry.position is None or not (
                force
                or entry.resolved
                or entry.covered - entry.checkpointed_covered >= self._every
                or clock - entry.checkpointed_at >= self._interval_s
            ):
                continue
            state = pickle.dumps(entry.monitor, protocol=pickle.HIGHEST_PROTOCOL)
            due.append(Checkpoint(patient_id, state, entry.covered, entry.position))
            entry.checkpointed_covered = entry.covered
            entry.checkpointed_at = clock
            entry.resolved = False
        return due

    @property
    def code_version(self) -> int:
        return self._code_version

    @property
    def factory(self) -> MonitorFactory:
        """How a patient's fresh monitor is built (the evaluation builds them the same way)."""
        return self._factory

    def committed(self) -> None:
        self._touched.clear()

    def rolled_back(self) -> None:
        """Forget what the failed transaction changed; reload it from the database."""
        for patient_id in self._touched:
            self._entries.pop(patient_id, None)
        self._touched.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: Bump when the detectors' state or behaviour changes: checkpoints of another
#: version are ignored and the state is rebuilt from the stored history.
DETECTOR_CODE_VERSION = 12


def default_monitor_cache(*, catch_up: bool = False) -> MonitorCache:
    """The hub's detectors: a :class:`~streaming.engine.PatientMonitor` per patient
    (``catch_up``: for a worker of several)."""
    from hub.exceptions import PathwayError
    from hub.pathways import get_pathway
    from streaming.engine import PatientMonitor

    def factory(patient_id: UUID, enrolment: Enrolment) -> Monitor:
        pathway = get_pathway(enrolment.pathway)
        try:
            pathway = pathway.with_overrides(enrolment.overrides)
        except PathwayError:  # the API validates them: stored by hand, or a pathway changed
            log.exception(
                "patient's threshold overrides refused; the pathway's own values apply",
                extra={"patient_id": str(patient_id)},
            )
        return PatientMonitor(patient_id, pathway, enrolment.timezone)

    return MonitorCache(factory=factory, code_version=DETECTOR_CODE_VERSION, catch_up=catch_up)
