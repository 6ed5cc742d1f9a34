"""One unresolved alert per patient and kind; evidence attaches; severity only rises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alerts.service import record_detection
from hub import patients
from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure

pytestmark = pytest.mark.services

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def _detection(patient_id: Any, kind: AlertKind, severity: Severity, kg: float) -> Detection:
    return Detection(
        patient_id=patient_id,
        kind=kind,
        severity=severity,
        source="rule:weight_gain_72h",
        measure=Measure.BODY_WEIGHT,
        observed={"gain_kg": kg},
        baseline={"threshold_kg": 2.0},
        window_start=T0 - timedelta(days=3),
        window_end=T0,
        reason=f"weight up {kg} kg in 72 h",
    )


def test_evidence_attaches_to_the_unresolved_alert_and_only_escalates(
    conn: psycopg.Connection[Any],
) -> None:
    patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    other = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    first = record_detection(
        conn, detection=_detection(patient.id, AlertKind.WEIGHT_GAIN, Severity.MEDIUM, 2.1), now=T0
    )
    again = record_detection(
        conn,
        detection=_detection(patient.id, AlertKind.WEIGHT_GAIN, Severity.LOW, 2.2),
        now=T0 + timedelta(hours=1),
    )
    worse = record_detection(
        conn,
        detection=_detection(patient.id, AlertKind.WEIGHT_GAIN, Severity.HIGH, 3.0),
        now=T0 + timedelta(hours=2),
    )
    bp = record_detection(
        conn, detection=_detection(patient.id, AlertKind.BP_HIGH, Severity.CRITICAL, 0), now=T0
    )
    theirs = record_detection(
        conn, detection=_detection(other.id, AlertKind.WEIGHT_GAIN, Severity.MEDIUM, 2.5), now=T0
    )
    assert first.opened
    assert not again.opened
    assert not worse.opened
    assert first.alert_id == again.alert_id == worse.alert_id
    assert (again.escalated, worse.escalated) == (False, True)
    assert bp.opened
    assert bp.alert_id != first.alert_id
    assert theirs.opened
    assert theirs.alert_id != first.alert_id
    row = conn.execute(
        "SELECT severity, reason, opened_at FROM alerts WHERE id = %s", (first.alert_id,)
    ).fetchone()
    assert row == ("high", "weight up 3.0 kg in 72 h", T0)
    evidence = conn.execute(
        "SELECT severity, observed->>'gain_kg', baseline->>'threshold_kg' FROM alert_evidence"
        " WHERE alert_id = %s ORDER BY id",
        (first.alert_id,),
    ).fetchall()
    assert evidence == [("medium", "2.1", "2.0"), ("low", "2.2", "2.0"), ("high", "3.0", "2.0")]


def test_a_resolved_alert_lets_a_new_one_open(conn: psycopg.Connection[Any]) -> None:
    patient = patients.enroll_patient(conn, pathway="HTN", discharge_date=None, identifiers=[])
    first = record_detection(
        conn, detection=_detection(patient.id, AlertKind.BP_HIGH, Severity.HIGH, 0), now=T0
    )
    conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = %s WHERE id = %s",
        (T0 + timedelta(days=1), first.alert_id),
    )
    second = record_detection(
        conn,
        detection=_detection(patient.id, AlertKind.BP_HIGH, Severity.HIGH, 0),
        now=T0 + timedelta(days=2),
    )
    assert second.opened
    assert second.alert_id != first.alert_id
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO alerts (patient_id, kind, severity, source, reason, opened_at, updated_at)"
            " VALUES (%s, 'bp_high', 'low', 'x', 'x', now(), now())",
            (patient.id,),
        )
