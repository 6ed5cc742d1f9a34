"""The hub's scheduled non-adherence checks, replayed in simulated time, on hand-made patients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hub.alerting import AlertKind, Detection, StreamReading
from hub.domain import DeviceKind, Measure
from hub.pathways import get_pathway
from simulators.evaluation.eval_adherence import AdherenceChecks, with_checks
from simulators.gt_models import TruthPatient
from simulators.models import Pathway
from streaming.evaluation import alert_episodes

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
P, Q = UUID(int=1), UUID(int=2)


def patient(pid: UUID) -> TruthPatient:
    end = T0 + timedelta(days=DAYS)
    return TruthPatient(0, pid, Pathway.HTN, (DeviceKind.BP_CUFF,), T0, end, {})


def daily(pid: UUID, *, skip: Iterable[int] = (), late_hours: float = 0.0) -> list[StreamReading]:
    """A blood pressure every morning at 08:00, received a minute later."""
    missing = set(skip)
    out = []
    for day in range(DAYS):
        if day in missing:
            continue
        at = T0 + timedelta(days=day, hours=8)
        received = at + timedelta(minutes=1, hours=late_hours)
        out.append(StreamReading(pid, 1, Measure.BLOOD_PRESSURE, at, 125.0, 80.0, received))
    return out


def replay(*streams: list[StreamReading]) -> list[Detection]:
    readings = sorted((r for s in streams for r in s), key=lambda r: r.received_at)
    ids = {r.patient_id: (1,) for r in readings}
    checks = AdherenceChecks([patient(p) for p in ids], ids, end=T0 + timedelta(days=DAYS))
    seen: Iterator[StreamReading] = with_checks(readings, checks)
    assert sum(1 for _ in seen) == len(readings)
    return checks.finish()


def missed(found: Iterable[Detection], pid: UUID) -> list[Detection]:
    return [d for d in found if d.patient_id == pid and d.kind is AlertKind.MISSED_READINGS]


def test_five_days_without_readings_make_one_missed_readings_episode_in_the_gap() -> None:
    # Days 10-14 missed: the last reading is day 9 08:00, the next day 15 08:00.
    found = replay(daily(P, skip=range(10, 15)), daily(Q))
    episodes = alert_episodes(missed(found, P))
    assert len(episodes) == 1
    gap_start, gap_end = T0 + timedelta(days=9, hours=8), T0 + timedelta(days=15, hours=8)
    assert gap_start + timedelta(hours=36) < episodes[0].start < gap_end
    # The hub's de-duplication: one detection while the alert stays open.
    assert len(missed(found, P)) == 1
    assert [d for d in found if d.patient_id == Q] == []


def test_a_patient_measuring_daily_gets_no_alert() -> None:
    assert replay(daily(Q)) == []


def test_the_alert_closes_when_readings_resume_and_a_later_gap_opens_a_new_one() -> None:
    found = missed(replay(daily(P, skip=[*range(5, 8), *range(18, 21)])), P)
    assert len(found) == 2
    assert found[1].window_end - found[0].window_end > timedelta(days=10)


def test_only_readings_received_by_the_tick_count() -> None:
    # Measured every day on time, but each one reaches the hub a day later
    # than the schedule and its grace allow.
    late = 24.0 + get_pathway("default").adherence.grace_hours
    found = missed(replay(daily(P, late_hours=late)), P)
    assert found
    # Found before the first reading, measured at 08:00 on day 0, arrived.
    assert found[0].window_end < T0 + timedelta(hours=8 + late)


def test_a_device_assigned_later_counts_from_its_assignment() -> None:
    """A scale that replaced another on day 20 is not 'never active' before it could be."""
    end = T0 + timedelta(days=DAYS)
    p = TruthPatient(0, P, Pathway.HTN, (DeviceKind.BP_CUFF, DeviceKind.SCALE), T0, end, {})
    readings = daily(P)
    readings += [
        StreamReading(P, 2, Measure.BODY_WEIGHT, at, 80.0, None, at + timedelta(minutes=1))
        for at in (T0 + timedelta(days=day, hours=7) for day in range(21, DAYS))
    ]
    readings.sort(key=lambda r: r.received_at)

    def never_active(assigned: dict[int, datetime] | None) -> list[Detection]:
        checks = AdherenceChecks([p], {P: (1, 2)}, end=end, assigned_at=assigned)
        for _ in with_checks(readings, checks):
            pass
        return [d for d in checks.finish() if d.kind is AlertKind.DEVICE_NEVER_ACTIVE]

    assert never_active(None) != []  # counted from enrolment, the new scale looks idle
    assert never_active({2: T0 + timedelta(days=20)}) == []
