"""The scoring process: what it finds, and how it fails without losing a batch."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from alerts import lifecycle
from alerts.service import record_detection
from hub import patients
from hub.alerting import AlertKind, Severity
from hub.db import connect
from hub.reading_row import ReadingRow, ScoringRow
from hub.settings import Settings
from streaming.exceptions import ScorerFailedError, ScorerUnavailableError
from streaming.scorer import ProcessScorer
from tests.support import wait_until

pytestmark = pytest.mark.services

PATIENT = UUID("00000000-0000-4000-8000-000000000001")
AT = datetime(2026, 3, 1, 8, tzinfo=UTC)


def bp(
    systolic: float, diastolic: float, day: int, *, aware: bool = True, patient: UUID = PATIENT
) -> ScoringRow:
    at = AT + timedelta(days=day)
    measured = at if aware else at.replace(tzinfo=None)
    return ScoringRow(
        patient_id=patient,
        device_id=7,
        measure="blood-pressure",
        measured_at=measured,
        value=systolic,
        value2=diastolic,
        received_at=at,
        activity=None,
    )


@pytest.fixture
def scorer(settings: Settings) -> Iterator[ProcessScorer]:
    scorer = ProcessScorer(settings)
    yield scorer
    scorer.close()


def score(scorer: ProcessScorer, rows: Sequence[ScoringRow | ReadingRow]) -> list[tuple[str, str]]:
    scorer.submit(rows)
    result = scorer.result()
    scorer.committed()
    return [(d.kind.value, d.severity.value) for d in result.detections]


def test_the_child_scores_batches_and_keeps_its_monitors(
    settings: Settings, scorer: ProcessScorer
) -> None:
    with connect(settings) as conn:
        enrolled = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
        conn.commit()
        patient = enrolled.id
        assert (
            score(scorer, [bp(130, 80, 0, patient=patient), bp(132, 82, 1, patient=patient)]) == []
        )
        scorer.submit([bp(205, 132, 2, patient=patient)])
        [crisis] = scorer.result().detections
        assert (crisis.kind, crisis.severity) == (AlertKind.BP_HIGH, Severity.CRITICAL)
        alert = record_detection(conn, detection=crisis, now=AT)  # as the writer does
        conn.commit()
        scorer.committed()
        # The same episode: the monitor in the child remembers it was reported.
        assert score(scorer, [bp(207, 133, 3, patient=patient)]) == []
        # Until its alert is resolved: then the crisis is news again.
        lifecycle.resolve(conn, alert_id=alert.alert_id, actor=None, now=AT)
        conn.commit()
        assert score(scorer, [bp(208, 134, 4, patient=patient)]) == [
            (AlertKind.BP_HIGH, Severity.CRITICAL)
        ]


def test_rows_as_copied_score_as_the_rows_the_insert_returns(
    settings: Settings, scorer: ProcessScorer
) -> None:
    """The writer submits its COPY rows before the insert (a ScoringRow is their start)."""
    with connect(settings) as conn:
        enrolled = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
        conn.commit()

    def copied(row: ScoringRow) -> ReadingRow:
        return ReadingRow(
            *row, "mmHg", row.value, row.value2, "mmHg", "sensed", "4.0", "h", None, 1
        )

    assert score(scorer, [copied(bp(130, 80, 0, patient=enrolled.id))]) == []
    assert score(scorer, [copied(bp(205, 132, 1, patient=enrolled.id))]) == [
        (AlertKind.BP_HIGH, Severity.CRITICAL)
    ]


def test_a_detector_that_raises_fails_the_batch_and_the_child_goes_on(
    scorer: ProcessScorer,
) -> None:
    scorer.submit([bp(205, 132, 0, aware=False)])
    with pytest.raises(ScorerFailedError, match="ReadingError"):
        scorer.result()
    scorer.rolled_back()
    assert score(scorer, [bp(205, 132, 0)]) == [(AlertKind.BP_HIGH, Severity.CRITICAL)]


def test_a_killed_child_fails_the_batch_and_the_next_one_starts_afresh(
    scorer: ProcessScorer,
) -> None:
    scorer.start()
    first = scorer.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: not _alive(first), timeout=10)
    with pytest.raises(ScorerUnavailableError):
        _ = score(scorer, [bp(205, 132, 0)])
    scorer.rolled_back()
    assert score(scorer, [bp(205, 132, 0)]) == [(AlertKind.BP_HIGH, Severity.CRITICAL)]
    assert scorer.pid not in (None, first)


def test_a_failed_transaction_makes_the_child_forget_what_the_batch_taught(
    scorer: ProcessScorer,
) -> None:
    scorer.submit([bp(205, 132, 0)])
    scorer.rolled_back()  # the reply is drained, the monitor reloaded from the database
    # Nothing was committed: the crisis is news again.
    assert score(scorer, [bp(206, 131, 0)]) == [(AlertKind.BP_HIGH, Severity.CRITICAL)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_patients_own_thresholds_come_from_the_database(
    settings: Settings, scorer: ProcessScorer
) -> None:
    with connect(settings) as conn:
        usual = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
        own = patients.enroll_patient(
            conn,
            pathway="CHF",
            discharge_date=None,
            identifiers=[],
            threshold_overrides={"spo2_low": 85},
        )
        conn.commit()

    def spo2(patient: UUID, value: float, hour: int = 0) -> ScoringRow:
        at = AT + timedelta(hours=hour)
        return ScoringRow(patient, 9, "oxygen-saturation", at, value, None, at, None)

    assert score(scorer, [spo2(usual.id, 86)]) == []  # below 88: waits for its repeat
    assert score(scorer, [spo2(usual.id, 86, 1)]) == [(AlertKind.SPO2_LOW, Severity.HIGH)]
    assert score(scorer, [spo2(own.id, 86), spo2(own.id, 86, 1)]) == []
    # Below the patient's own limit (and the at-once limit, 85): a confirmed alert.
    assert score(scorer, [spo2(own.id, 84, 2)]) == [(AlertKind.SPO2_LOW, Severity.HIGH)]
