"""The ledger holds what the hub's alert table holds after the same detections and closures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alerts.service import record_detection, resolve_automatically
from hub import patients
from hub.alerting import AlertKind, Closure, Detection, Severity
from streaming.alert_ledger import Entry, Stamp, fold

pytestmark = pytest.mark.services

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
S = Severity


def test_the_fold_equals_the_alert_table(conn: psycopg.Connection[Any]) -> None:
    me = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[]).id
    you = patients.enroll_patient(conn, pathway="COPD", discharge_date=None, identifiers=[]).id
    script: list[tuple[float, Any, AlertKind, Severity | None]] = [
        # (day, patient, kind, severity; None = a closure)
        (0, me, AlertKind.WEIGHT_GAIN, S.LOW),
        (0.5, me, AlertKind.WEIGHT_GAIN, S.LOW),
        (1, me, AlertKind.WEIGHT_GAIN, S.HIGH),
        (1.2, you, AlertKind.SPO2_LOW, S.HIGH),
        (1.5, me, AlertKind.WEIGHT_GAIN, S.MEDIUM),
        (2, me, AlertKind.BP_HIGH, S.CRITICAL),
        (3, me, AlertKind.WEIGHT_GAIN, None),
        (3.5, you, AlertKind.SPO2_LOW, S.CRITICAL),
        (4, me, AlertKind.WEIGHT_GAIN, S.MEDIUM),
        (4.5, me, AlertKind.WEIGHT_GAIN, S.MEDIUM),
        (5, you, AlertKind.HR_HIGH, None),  # nothing open
        (6, you, AlertKind.SPO2_LOW, None),
        (7, you, AlertKind.SPO2_LOW, S.LOW),
        (8, me, AlertKind.WEIGHT_GAIN, None),
    ]
    entries: list[Entry] = []
    for n, (day, patient, kind, severity) in enumerate(script):
        at = T0 + timedelta(days=day)
        stamp = Stamp(at - timedelta(hours=1), at)
        if severity is None:
            closure = Closure(patient, kind, stamp.measured_at, "engine:episode_ended", "back")
            entries.append((closure, stamp))
            resolve_automatically(conn, patient_id=patient, kind=kind, now=at, cleared_by="back")
        else:
            d = Detection(patient, kind, severity, f"rule:{n}", None, {}, {}, at, at, f"reason {n}")
            entries.append((d, stamp))
            record_detection(conn, detection=d, now=at)
    table = conn.execute(
        "SELECT a.patient_id, a.kind, a.opened_at, a.severity, a.source, a.reason,"
        " a.resolved_at, (SELECT count(*) FROM alert_evidence e WHERE e.alert_id = a.id),"
        " (SELECT count(*) FROM alert_events v WHERE v.alert_id = a.id"
        "  AND v.event = 'severity_raised')"
        " FROM alerts a ORDER BY a.id"
    ).fetchall()
    ledger = [
        (
            r.patient_id,
            r.kind.value,
            r.opened.received_at,
            r.max_severity.value,
            r.headline_source,
            r.headline_reason,
            None if r.closed is None else r.closed.at.received_at,
            r.evidence,
            len(r.escalations),
        )
        for r in fold(entries)
    ]
    assert ledger == table
    assert len(table) == 5
