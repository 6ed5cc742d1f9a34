"""A batch some of whose readings were stored before: only the new ones are scored.

The process scorer scores a batch's rows while the insert runs; when the
insert adds fewer rows than were copied, the writer makes it forget them and
submits the rows the insert returned. The in-process scorer always gets the
returned rows. Either way a reading sent again teaches the monitors nothing,
and a new one in the same batch is scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devices.service import create_device, create_gateway, new_gateway_id
from flows.directory import DeviceDirectory
from flows.writer import BatchResult, finish_batch, prepare_connection, store_batch
from hub import patients
from hub.db import Conn, connect
from hub.domain import DeviceKind, Measure, Modality, ParsedPoint
from hub.settings import Settings
from ingest.models import Received
from ingest.routing import ParsedBatch
from streaming.scorer import LocalScorer, ProcessScorer, Scorer
from streaming.service import default_monitor_cache

pytestmark = pytest.mark.services

AT = datetime(2026, 3, 1, 7, tzinfo=UTC)

SCORERS: dict[str, Callable[[Settings], Scorer]] = {
    "process": ProcessScorer,
    "local": lambda _: LocalScorer(default_monitor_cache()),
}


def _point(measure: Measure, value: float, value2: float | None, at: datetime) -> ParsedPoint:
    return ParsedPoint(
        measure, "4.0", at, value, value2, value, value2, "%", Modality.SENSED, f"h-{at:%H%M}"
    )


@pytest.fixture(params=sorted(SCORERS))
def scorer(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Scorer]:
    made = SCORERS[request.param](settings)
    yield made
    made.close()


def test_a_reading_sent_again_is_not_scored_again_and_a_new_one_is(
    settings: Settings, scorer: Scorer
) -> None:
    with connect(settings) as conn:
        patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
        gateway = new_gateway_id()
        create_gateway(conn, gateway_id=gateway, label=None)
        for serial, kind in (("OX-1", DeviceKind.PULSE_OXIMETER), ("BP-1", DeviceKind.BP_CUFF)):
            create_device(conn, serial=serial, kind=kind, gateway_id=gateway, patient_id=patient.id)
        conn.commit()
        prepare_connection(conn)
        directory = DeviceDirectory()
        n = 0

        def store(*points: tuple[str, ParsedPoint]) -> BatchResult:
            nonlocal n
            parsed = ParsedBatch(messages=len(points), statuses=[], points=[], dead=[], feeds=[])
            for serial, point in points:
                n += 1
                received = Received(f"t/{serial}", b"", n, False, AT + timedelta(days=1), 1)
                parsed.points.append((received, gateway, serial, ((0, point),)))
            return _store(conn, parsed, directory, scorer)

        low = ("OX-1", _point(Measure.OXYGEN_SATURATION, 86, None, AT))
        normal = ("OX-1", _point(Measure.OXYGEN_SATURATION, 97, None, AT + timedelta(hours=1)))
        crisis = ("BP-1", _point(Measure.BLOOD_PRESSURE, 205, 132, AT + timedelta(hours=2)))
        first = store(low)  # below 88: an alert waits for its repeat
        assert (first.stored, first.evidence) == (1, 0)
        # Had the low reading been scored again, it would be its own repeat.
        again = store(low, normal)
        assert (again.points, again.stored, again.evidence) == (2, 1, 0)
        crisis_too = store(normal, crisis)
        assert (crisis_too.stored, crisis_too.alerts_opened) == (1, 1)
        kinds = conn.execute("SELECT kind FROM alerts").fetchall()
        assert kinds == [("bp_high",)]


def _store(
    conn: Conn, parsed: ParsedBatch, directory: DeviceDirectory, scorer: Scorer
) -> BatchResult:
    with conn.transaction():
        stored = store_batch(conn, parsed=parsed, directory=directory, scorer=scorer)
        result = finish_batch(conn, stored=stored, scorer=scorer)
    scorer.committed()
    return result
