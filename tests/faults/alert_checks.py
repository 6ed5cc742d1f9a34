"""What fault tests check about alerts and detector state, counting in the database.

:func:`check_alerts`: one alert per patient and kind, opened once, no
evidence twice, and weight-gain alerts for exactly the episodes' patients.

:func:`replay` is the oracle for "a restart changed nothing": it feeds each
patient's stored readings, in arrival order, to a fresh monitor in this
process (no checkpoint, no restart) and returns the evidence an
uninterrupted run would have written, to compare with :func:`stored_evidence`,
and each monitor's pickled state where the patient's checkpoint stands, to
compare with :func:`checkpoint_states`.

:func:`checkpoint_lag` checks each detector checkpoint against the readings
it claims to cover. :func:`check_episodes_as_replayed` runs the checks of a
load of weight-gain episodes and control patients in one call.
"""

from __future__ import annotations

import json
import pickle
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from hub.pathways import get_pathway
from hub.reading_row import scoring_row
from hub.sql import queries
from streaming.engine import PatientMonitor
from streaming.rows import stream_reading

#: Sources of the checks that run on a schedule or on arrival against the wall
#: clock (non-adherence, presence, device health), not of the per-reading monitors.
SCHEDULED_SOURCES = (
    "rule:missed_readings",
    "rule:device_never_active",
    "rule:frequency_drop",
    "rule:gateway_offline",
    "rule:device_problem",
)

#: (patient, kind, source, severity, window start, window end, observed as JSON)
Evidence = tuple[str, str, str, str, datetime | None, datetime | None, str]


def check_alerts(conn: psycopg.Connection[Any], patients: set[str]) -> None:
    """One alert per patient and kind, one 'opened' each, no evidence twice."""
    dup_alerts = conn.execute(
        "SELECT patient_id, kind, count(*) FROM alerts GROUP BY 1, 2 HAVING count(*) > 1"
    ).fetchall()
    assert dup_alerts == [], dup_alerts
    dup_opened = conn.execute(
        "SELECT alert_id, count(*) FROM alert_events WHERE event = 'opened'"
        " GROUP BY 1 HAVING count(*) > 1"
    ).fetchall()
    assert dup_opened == [], dup_opened
    dup_evidence = conn.execute(
        "SELECT alert_id, source, window_start, window_end, observed::text, count(*)"
        " FROM alert_evidence GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1"
    ).fetchall()
    assert dup_evidence == [], dup_evidence
    gains = conn.execute(
        "SELECT patient_id::text FROM alerts WHERE kind = 'weight_gain'"
    ).fetchall()
    assert {p for (p,) in gains} == patients, "each episode, and only they, alert once"


def _observed(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True)


def stored_evidence(conn: psycopg.Connection[Any]) -> Counter[Evidence]:
    """The monitors' evidence rows in the database (not the scheduled checks'), as a multiset."""
    rows = conn.execute(
        "SELECT a.patient_id::text, a.kind, e.source, e.severity, e.window_start,"
        " e.window_end, e.observed FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id"
        " WHERE e.source <> ALL(%s)",
        (list(SCHEDULED_SOURCES),),
    ).fetchall()
    return Counter((*row[:6], _observed(row[6])) for row in rows)


@dataclass
class Replay:
    """What uninterrupted monitors make of the stored readings (see the module docstring)."""

    evidence: Counter[Evidence] = field(default_factory=Counter)
    #: Each patient's monitor pickled after as many readings as its checkpoint covers.
    states: dict[str, bytes] = field(default_factory=dict)


def replay(conn: psycopg.Connection[Any], patient_ids: Iterable[str]) -> Replay:
    """Feed each patient's stored readings, in arrival order, to a fresh monitor.

    The monitors are built as the hub's factory builds them (pathway with the
    patient's overrides, time zone), so their pickles compare byte for byte.
    """
    ids = sorted(UUID(p) for p in patient_ids)
    none = [None] * len(ids)
    with conn.cursor(row_factory=scoring_row) as cur:
        rows = cur.execute(
            queries["readings_after_positions"],
            {
                "patient_ids": ids,
                "received": none,
                "measured": none,
                "devices": none,
                "measures": none,
            },
        ).fetchall()
    covered = {
        str(p): int(c)
        for p, c in conn.execute(
            "SELECT patient_id, readings_covered FROM detector_checkpoints"
        ).fetchall()
    }
    monitors = {
        p: PatientMonitor(p, get_pathway(str(name)).with_overrides(overrides or {}), str(tz))
        for p, name, tz, overrides in conn.execute(
            queries["pathways_for_patients"], {"patient_ids": ids}
        ).fetchall()
    }
    seen: Counter[UUID] = Counter()
    out = Replay()
    for row in rows:
        reading = stream_reading(row)
        patient = str(reading.patient_id)
        monitor = monitors[reading.patient_id]
        for d in monitor.process(reading):
            observed = _observed(json.loads(json.dumps(dict(d.observed))))
            key = (patient, d.kind.value, d.source, d.severity.value)
            out.evidence[(*key, d.window_start, d.window_end, observed)] += 1
        monitor.pop_closures()  # the live monitors hand theirs to the writer
        seen[reading.patient_id] += 1
        if seen[reading.patient_id] == covered.get(patient):
            out.states[patient] = pickle.dumps(monitor, protocol=pickle.HIGHEST_PROTOCOL)
    return out


def checkpoint_states(conn: psycopg.Connection[Any]) -> dict[str, bytes]:
    rows = conn.execute("SELECT patient_id::text, state FROM detector_checkpoints").fetchall()
    return {str(p): bytes(state) for p, state in rows}


def checkpoint_lag(conn: psycopg.Connection[Any]) -> list[tuple[str, int, int]]:
    """Checkpoints whose ``readings_covered`` is not the count of the patient's readings
    up to its position (arrival order): ``(patient, covered, counted)`` of each."""
    rows = conn.execute(
        "SELECT c.patient_id::text, c.readings_covered, count(r.*)"
        " FROM detector_checkpoints c JOIN readings r ON r.patient_id = c.patient_id"
        " AND (r.received_at, r.measured_at, r.device_id, r.measure)"
        " <= (c.last_received_at, c.last_measured_at, c.last_device_id, c.last_measure)"
        " GROUP BY 1, 2 HAVING c.readings_covered <> count(r.*)"
    ).fetchall()
    return [(str(p), int(covered), int(counted)) for p, covered, counted in rows]


def check_episodes_as_replayed(
    conn: psycopg.Connection[Any], patients: Iterable[str], episodes: set[str]
) -> Replay:
    """One weight-gain alert per episode patient, none for the others, the
    evidence what uninterrupted monitors find, every checkpoint covering exactly
    the readings up to its position; the replay, for more checks."""
    check_alerts(conn, episodes)
    oracle = replay(conn, patients)
    stored = stored_evidence(conn)
    assert stored == oracle.evidence, (stored - oracle.evidence, oracle.evidence - stored)
    assert {e[0] for e in oracle.evidence if e[1] == "weight_gain"} == episodes
    assert {e[0] for e in stored} == episodes, "the controls raise nothing"
    assert checkpoint_lag(conn) == []
    return oracle
