"""Turn a batch of received MQTT messages into stored readings, dispenses and dead letters.

Three steps: :func:`~ingest.routing.parse_batch` (no database, each message
routed by its topic), :func:`store_batch` and :func:`finish_batch`, both in
one transaction that the caller owns; between the last two the scorer works,
and the caller may parse the next batch.

Valid points go through a binary COPY into a staging table and then
``INSERT … ON CONFLICT DO NOTHING`` into the hypertable (so redelivered and
resent readings are stored once); every point that is not stored gets
exactly one dead-letter row, which the worker later publishes on the
gateway's errors topic. Pharmacy dispenses in the batch are stored by
:mod:`ingest.pharmacy_mqtt` in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import datetime
from uuid import UUID

from alerts.service import record_detection, resolve_automatically
from devices.lifecycle import touch_devices
from devices.models import DeviceRoute
from devices.service import set_gateway_presence, touch_gateways
from flows.directory import DeviceDirectory, route_problem
from flows.patient_order import advance_heads, after_stored, lock_patients
from flows.refill_checks import run_refill_checks
from flows.reports import store_feed_messages, store_meta_messages
from hub.alerting import Closure
from hub.db import Conn
from hub.domain import CANONICAL_UNIT, Measure, Modality, ParsedPoint, Rejection, RejectionCode
from hub.reading_row import COPY_TYPES, ReadingRow, scoring_row
from hub.sql import queries
from ingest import metrics
from ingest.dead_letters import record_dead_letters
from ingest.models import DeadLetter, Received
from ingest.pharmacy_mqtt import FeedMessage
from ingest.routing import ParsedBatch
from streaming.checkpoints import write_checkpoints
from streaming.scorer import Scorer

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchResult:
    messages: int = 0
    points: int = 0
    stored: int = 0
    rejected: int = 0
    alerts_opened: int = 0
    #: Alerts resolved automatically because their episode ended.
    alerts_closed: int = 0
    evidence: int = 0
    #: Pharmacy dispenses stored (held ones included).
    dispenses: int = 0
    #: Dead letters by rejection code.
    codes: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        """Count ``other`` in too, every field (a batch stored in parts is their sum).

        >>> total = BatchResult(messages=2, stored=2, evidence=1)
        >>> total.add(BatchResult(messages=1, rejected=1, codes={"internal_error": 1}))
        >>> total.messages, total.stored, total.rejected, total.evidence, total.codes
        (3, 2, 1, 1, {'internal_error': 1})
        """
        for counter in fields(self):
            if counter.name != "codes":
                setattr(
                    self, counter.name, getattr(self, counter.name) + getattr(other, counter.name)
                )
        for code, n in other.codes.items():
            self.codes[code] = self.codes.get(code, 0) + n


def prepare_connection(conn: Conn) -> None:
    """Create the per-connection staging table (once per connection)."""
    with conn.transaction():
        conn.execute(queries["create_readings_staging"])


@dataclass(slots=True)
class StoredBatch:
    """A batch written in an open transaction; its scores may still be coming."""

    result: BatchResult
    latest: datetime | None = None
    scoring: bool = False
    #: Patients with readings in the batch (whose adherence to check on arrival).
    patient_ids: set[UUID] = field(default_factory=set)
    #: The newest measurement time of each such patient's readings in the batch.
    newest_measured: dict[UUID, datetime] = field(default_factory=dict)
    #: Gateways whose ``online`` in the batch changed their presence, and when.
    back_online: list[tuple[str, datetime]] = field(default_factory=list)


def store_batch(
    conn: Conn,
    *,
    parsed: ParsedBatch,
    directory: DeviceDirectory,
    scorer: Scorer | None = None,
    shared: bool = False,
) -> StoredBatch:
    """Route and store ``parsed`` inside the caller's transaction.

    ``shared``: the worker is one of several, and first locks the batch's
    patients and orders their readings after the stored ones
    (:mod:`flows.patient_order`).

    With ``scorer``, the readings the insert added are handed to it (a
    scorer in a process of its own gets the staged rows before the insert,
    so that scoring and inserting overlap; should some rows turn out to be
    stored already, it forgets that and gets the rows the insert added); call
    :func:`finish_batch` (same transaction) to write their alerts and the
    detector checkpoints, then tell the scorer whether the transaction
    committed.
    """
    stored = StoredBatch(BatchResult(messages=parsed.messages))
    result = stored.result
    dead = list(parsed.dead)
    for msg, gateway_id in parsed.statuses:
        bad_status = _record_status(conn, msg, gateway_id, stored.back_online)
        if bad_status is not None:
            dead.append(DeadLetter(msg, gateway_id, None, bad_status))

    routes = directory.lookup(conn, serials=(serial for _, _, serial, _ in parsed.points))
    rows: list[ReadingRow] = []
    # A scorer that scores the rows while the insert runs.
    speculative = scorer is not None and scorer.speculative
    seen_gateways: set[str] = set()
    accepted_devices: set[int] = set()
    for msg, gateway_id, serial, points in parsed.points:
        result.points += len(points)
        route = routes.get(serial)
        problem = route_problem(route, gateway_id, serial)
        for index, point in points:
            if problem is None and route is not None and point.measure not in route.kind.measures:
                code, detail = (
                    RejectionCode.MEASURE_NOT_FOR_DEVICE,
                    (f"a {route.kind.value} does not report {point.measure.value}"),
                )
            elif problem is not None:
                code, detail = problem
            else:
                assert route is not None
                rows.append(_row(point, route, msg.received_at))
                newest = stored.newest_measured.get(route.patient_id)
                if newest is None or point.measured_at > newest:
                    stored.newest_measured[route.patient_id] = point.measured_at
                accepted_devices.add(route.id)
                seen_gateways.add(gateway_id)
                continue
            rejection = Rejection(code, detail, header_id=point.header_id, index=index)
            dead.append(DeadLetter(msg, gateway_id, serial, rejection))
    # From the dict's own hashes: a UUID's hash is computed in Python, on the hot path.
    stored.patient_ids.update(stored.newest_measured)

    if rows and shared:
        lock_patients(conn, patient_ids=stored.newest_measured)
        rows = after_stored(conn, rows=rows)
    if rows:
        if scorer is not None:
            # Lazily: the scoring process does not look at them.
            scorer.prepare(conn, patient_ids=(route.patient_id for route in routes.values()))
        if speculative:
            assert scorer is not None
            # Scored while the database inserts; redone below if some were not new.
            scorer.submit(rows)
        # Binary results load faster than text, to the same values.
        with conn.cursor(binary=True, row_factory=scoring_row) as cur:
            with cur.copy(queries["copy_readings_staging"]) as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cur.execute(queries["insert_readings_from_staging"])
            result.stored = cur.rowcount
            # The rows the insert added, unless the scorer has them all already.
            rescore = scorer is not None and (not speculative or result.stored != len(rows))
            every_row = result.stored == len(rows)
            returned = cur.fetchall() if rescore or (shared and not every_row) else []
        if shared:
            advance_heads(conn, rows=rows if every_row else returned)
        stored.latest = latest = max(msg.received_at for msg, _, _, _ in parsed.points)
        touch_gateways(conn, gateway_ids=seen_gateways, seen_at=latest)
        touch_devices(conn, device_ids=accepted_devices, at=latest)
        if scorer is not None and speculative and result.stored != len(rows):
            scorer.rolled_back()  # some were stored before: forget what they taught
        if scorer is not None and result.stored:
            if rescore:
                scorer.submit(returned)
            stored.scoring = True
    if parsed.feeds:
        _store_dispenses(conn, parsed.feeds, stored, dead)
    if parsed.metas:
        dead.extend(store_meta_messages(conn, metas=parsed.metas, directory=directory))
    for letter in record_dead_letters(conn, dead):
        result.rejected += 1
        name = letter.rejection.code.value
        result.codes[name] = result.codes.get(name, 0) + 1
    return stored


def finish_batch(conn: Conn, *, stored: StoredBatch, scorer: Scorer | None) -> BatchResult:
    """Write the alerts and checkpoints of a stored batch (same transaction).

    In the order the readings showed them: a detection opens an alert or adds
    evidence to the unresolved one of its kind; a closure (the episode of a
    kind ended) resolves that alert automatically, with the closure's reason.
    """
    result = stored.result
    if scorer is None or not stored.scoring or stored.latest is None:
        return result
    scored = scorer.result()
    metrics.scored(scored.seconds)
    for shown in scored.shown:
        if isinstance(shown, Closure):
            closed = resolve_automatically(
                conn,
                patient_id=shown.patient_id,
                kind=shown.kind,
                now=stored.latest,
                cleared_by=shown.reason,
                detail={"source": shown.source, "measured_at": shown.at.isoformat()},
            )
            result.alerts_closed += int(closed)
            continue
        recorded = record_detection(conn, detection=shown, now=stored.latest)
        result.evidence += 1
        result.alerts_opened += int(recorded.opened)
    write_checkpoints(
        conn, checkpoints=scored.checkpoints, code_version=scored.code_version, now=stored.latest
    )
    return result


def _store_dispenses(
    conn: Conn, feeds: list[FeedMessage], stored: StoredBatch, dead: list[DeadLetter]
) -> None:
    """Store the batch's pharmacy dispenses; the fills' patients get their refills checked."""
    latest = max(feed.message.received_at for feed in feeds)
    outcome = store_feed_messages(conn, messages=feeds, received_at=latest)
    dead.extend(outcome.dead)
    stored.result.dispenses += outcome.stored
    if outcome.patient_ids:
        # A refill may end an overdue alert, or a late one show a new one.
        stored.result.evidence += run_refill_checks(
            conn, now=latest, patient_ids=outcome.patient_ids
        )


def _record_status(
    conn: Conn, msg: Received, gateway_id: str, back_online: list[tuple[str, datetime]]
) -> Rejection | None:
    text = msg.payload.strip().decode("utf-8", errors="replace")
    if text not in ("online", "offline"):
        return Rejection(RejectionCode.SCHEMA_INVALID, "a status payload is 'online' or 'offline'")
    online = text == "online"
    changed = set_gateway_presence(
        conn, gateway_id=gateway_id, online=online, at=msg.received_at, retained=msg.retained
    )
    if changed and online:
        # Its patients' gateway-offline alerts end in this batch's checks.
        back_online.append((gateway_id, msg.received_at))
    return None


#: The members' values: a dict lookup costs a sixth of ``Enum.value``, on the hot path.
_MEASURE_VALUES = {m: m.value for m in Measure}
_MODALITY_VALUES = {m: m.value for m in Modality}


def _row(point: ParsedPoint, route: DeviceRoute, received_at: datetime) -> ReadingRow:
    measure = point.measure
    # By position: in CPython 3.11 a call with 17 keywords costs several times
    # one with 17 positions (some 650 ns a reading). mypy checks each position's
    # type; tests/hub/test_reading_row.py checks each column by its name.
    return ReadingRow(
        route.patient_id,
        route.id,
        _MEASURE_VALUES[measure],
        point.measured_at,
        point.value,
        point.value2,
        received_at,
        point.activity,
        CANONICAL_UNIT[measure],
        point.original_value,
        point.original_value2,
        point.original_unit,
        _MODALITY_VALUES[point.modality],
        point.schema_version,
        point.header_id,
        point.descriptive_statistic,
        point.sequence,
    )
