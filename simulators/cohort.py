"""A simulated cohort of monitored patients and the MQTT messages their gateways send.

Simulated patients only: no real data ever goes in or comes out. A cohort is a
pure function of its seed: :func:`build_cohort` draws the patients, and
:meth:`Cohort.events` yields, in time order, what their gateways send over a
window of time. Every reading is a function of the seed, the patient and the
day, so consecutive windows (a backfill, then ``--follow``) continue one
another exactly.

What the stream contains:

- daily routines: a morning weight, morning and evening blood pressure with the
  cuff's heart rate, SpO2 with the oximeter's heart rate once or twice a day,
  times jittered, 5-10 % of days missed;
- scenarios: CHF fluid gain, a hypertensive crisis, a COPD SpO2 decline, a
  patient who stops measuring, patients who skip most days
  (see :mod:`simulators.physiology`);
- late batches: a gateway offline for hours sends what it stored as one JSON
  array per device when it comes back;
- about 0.5 % malformed messages (:class:`~simulators.models.Malformation`).

>>> from datetime import UTC, datetime
>>> cohort = build_cohort(4, seed=7, end=datetime(2026, 11, 30, tzinfo=UTC), days=2)
>>> [p.pathway.value for p in cohort.patients]
['CHF', 'COPD', 'HTN', 'default']
>>> events = list(cohort.events())
>>> all(a.due <= b.due for a, b in zip(events, events[1:]))
True
"""

from __future__ import annotations

import heapq
import random
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from hub.domain import DeviceKind
from simulators import omh
from simulators.models import (
    EventKind,
    Malformation,
    Pathway,
    Scenario,
    SimDevice,
    SimEvent,
    SimPatient,
)
from simulators.physiology import (
    Vitals,
    draw_baseline,
    draw_routine,
    draw_scenario,
    measure_vitals,
)

#: Devices each pathway sends home.
PATHWAY_DEVICES: Mapping[Pathway, tuple[DeviceKind, ...]] = {
    Pathway.CHF: (DeviceKind.SCALE, DeviceKind.BP_CUFF, DeviceKind.PULSE_OXIMETER),
    Pathway.COPD: (DeviceKind.PULSE_OXIMETER, DeviceKind.BP_CUFF),
    Pathway.HTN: (DeviceKind.BP_CUFF, DeviceKind.SCALE),
    Pathway.DEFAULT: (DeviceKind.BP_CUFF, DeviceKind.PULSE_OXIMETER),
}
_PATHWAYS = (Pathway.CHF, Pathway.COPD, Pathway.HTN, Pathway.DEFAULT)
_PATHWAY_WEIGHTS = (0.35, 0.25, 0.25, 0.15)
_SERIAL_CODE = {DeviceKind.SCALE: "SC", DeviceKind.BP_CUFF: "BP", DeviceKind.PULSE_OXIMETER: "OX"}
_SOURCE_NAME = {
    DeviceKind.SCALE: "SimScale WS-50",
    DeviceKind.BP_CUFF: "SimCuff BP-7",
    DeviceKind.PULSE_OXIMETER: "SimOx PO-3",
}
_PREFIX = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")
_SLOT_MISS = 0.02
#: A later patient whose scenario draw is at least this measures sporadically.
_SPORADIC_FROM = 0.86
_MAX_BATCH = 500
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Reading:
    at: datetime
    device: SimDevice
    point: omh.Json


@dataclass(frozen=True)
class Cohort:
    """Simulated patients (one gateway each) and the window ``[start, end)`` they cover."""

    seed: int
    prefix: str
    start: datetime
    end: datetime
    patients: tuple[SimPatient, ...]
    malformed_rate: float = 0.005
    outage_rate: float = 0.04
    _by_gateway: dict[str, SimPatient] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_gateway", {p.gateway_key: p for p in self.patients})

    @property
    def gateways(self) -> Mapping[str, SimPatient]:
        """Gateway key -> the patient whose gateway it is."""
        return self._by_gateway

    def events(
        self, start: datetime | None = None, stop: datetime | None = None
    ) -> Iterator[SimEvent]:
        """Messages due in ``[start, stop)`` (default: the cohort's window), in time order."""
        lo = _utc(start) if start is not None else self.start
        hi = _utc(stop) if stop is not None else self.end
        streams = [self._patient_events(p, lo, hi) for p in self.patients]
        return heapq.merge(*streams, key=lambda e: (e.due, e.gateway_key, e.device_serial))

    def measured_days(self, patient: SimPatient, since: date) -> frozenset[date]:
        """The UTC days from ``since`` on when the patient measured something before the end.

        What an RPM period counts once the backfill is in (a malformed message
        aside, which takes one reading, rarely a day's only one).
        """
        days: set[date] = set()
        day = since
        while day <= self.end.date():
            if any(r.at < self.end for r in self._day_readings(patient, day)):
                days.add(day)
            day += _DAY
        return frozenset(days)

    # -- one patient -------------------------------------------------------------------------

    def _patient_events(
        self, patient: SimPatient, lo: datetime, hi: datetime
    ) -> Iterator[SimEvent]:
        pending: list[tuple[datetime, str, int, SimEvent]] = []
        # Readings a gateway holds while offline, by (back online at, serial).
        stored: dict[tuple[datetime, str], list[_Reading]] = {}
        seq = 0
        day = lo.date() - _DAY
        while day <= hi.date():
            horizon = datetime.combine(day + _DAY, time(), tzinfo=UTC)
            outages = [o for d in (day - _DAY, day) if (o := self._outage(patient, d)) is not None]
            rng = random.Random(f"{self.seed}/{patient.index}/messages/{day.isoformat()}")
            for reading in self._day_readings(patient, day):
                outage = next((o for o in outages if o[0] <= reading.at < o[1]), None)
                if outage is not None:
                    stored.setdefault((outage[1], reading.device.serial), []).append(reading)
                    continue
                event = self._live_event(patient, reading, rng)
                heapq.heappush(pending, (event.due, event.device_serial, seq, event))
                seq += 1
            # An outage is over, and its batch complete, once it ends before the next day.
            for key in sorted(k for k in stored if k[0] < horizon):
                for event in self._late_events(patient, key[1], key[0], stored.pop(key)):
                    heapq.heappush(pending, (event.due, event.device_serial, seq, event))
                    seq += 1
            # Nothing made from a later day is due before that day starts.
            while pending and pending[0][0] < horizon:
                event = heapq.heappop(pending)[3]
                if lo <= event.due < hi:
                    yield event
            day += _DAY
        while pending:
            event = heapq.heappop(pending)[3]
            if lo <= event.due < hi:
                yield event

    def _outage(self, patient: SimPatient, day: date) -> tuple[datetime, datetime] | None:
        """When the patient's gateway is offline, if its outage starts on ``day``."""
        rng = random.Random(f"{self.seed}/{patient.index}/outage/{day.isoformat()}")
        if rng.random() >= self.outage_rate:
            return None
        begin = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 86_399)
        )
        return begin, begin + timedelta(minutes=rng.randint(120, 16 * 60))

    def _live_event(self, patient: SimPatient, reading: _Reading, rng: random.Random) -> SimEvent:
        due = reading.at + timedelta(seconds=rng.randint(5, 90))
        if rng.random() >= self.malformed_rate:
            return SimEvent(
                due,
                patient.gateway_key,
                reading.device.serial,
                omh.encode(reading.point),
                EventKind.NORMAL,
            )
        how = rng.choice(tuple(Malformation))
        payload = omh.malform(reading.point, how, rng, future_after=max(due, self.end))
        return SimEvent(
            due,
            patient.gateway_key,
            reading.device.serial,
            payload,
            EventKind.MALFORMED,
            n_valid=0,
            malformation=how,
        )

    def _late_events(
        self, patient: SimPatient, serial: str, back_at: datetime, readings: list[_Reading]
    ) -> Iterator[SimEvent]:
        kind = readings[0].device.kind.value  # not the serial, which carries the prefix
        rng = random.Random(f"{self.seed}/{patient.index}/batch/{kind}/{back_at.isoformat()}")
        due = back_at + timedelta(seconds=rng.randint(30, 600))
        for i in range(0, len(readings), _MAX_BATCH):
            chunk = [r.point for r in readings[i : i + _MAX_BATCH]]
            yield SimEvent(
                due + timedelta(seconds=i // _MAX_BATCH),
                patient.gateway_key,
                serial,
                omh.encode(chunk),
                EventKind.LATE_BATCH,
                n_points=len(chunk),
                n_valid=len(chunk),
            )

    def _day_readings(self, patient: SimPatient, day: date) -> list[_Reading]:
        """What the patient measures on ``day``, in time order."""
        rng = random.Random(f"{self.seed}/{patient.index}/readings/{day.isoformat()}")
        if rng.random() < _miss_day_rate(patient, day):
            return []
        midnight = datetime.combine(day, time(), tzinfo=UTC)
        wake = midnight + timedelta(
            minutes=patient.routine.wake_minute + rng.randint(-25, 25), seconds=rng.randint(0, 59)
        )
        evening = midnight + timedelta(
            minutes=patient.routine.evening_minute + rng.randint(-40, 40),
            seconds=rng.randint(0, 59),
        )
        afternoon = midnight + timedelta(
            minutes=rng.randint(15 * 60, 18 * 60), seconds=rng.randint(0, 59)
        )
        slots: list[tuple[DeviceKind, datetime]] = [
            (DeviceKind.SCALE, wake),
            (DeviceKind.BP_CUFF, wake + timedelta(minutes=rng.randint(5, 25))),
            (DeviceKind.BP_CUFF, evening),
            (DeviceKind.PULSE_OXIMETER, wake + timedelta(minutes=rng.randint(30, 90))),
        ]
        if patient.routine.spo2_twice:
            slots.append((DeviceKind.PULSE_OXIMETER, afternoon))
        stops = patient.scenario(Scenario.NON_ADHERENT)
        readings: list[_Reading] = []
        for kind, at in slots:
            device = patient.device(kind)
            missed = rng.random() < _SLOT_MISS
            vitals = measure_vitals(rng, patient.baseline, patient.scenarios, at)
            if device is None or missed or (stops is not None and at >= stops.onset):
                continue
            for schema, body in _bodies(device, vitals, at):
                point = omh.data_point(
                    body,
                    schema,
                    header_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    created=at + timedelta(seconds=rng.randint(0, 5)),
                    source_name=device.source_name,
                )
                readings.append(_Reading(at, device, point))
        readings.sort(key=lambda r: r.at)
        return readings


def _miss_day_rate(patient: SimPatient, day: date) -> float:
    """The chance that the patient measures nothing on ``day``."""
    sporadic = patient.scenario(Scenario.SPORADIC)
    if sporadic is not None and day >= sporadic.onset.date():
        return max(patient.routine.miss_day_rate, sporadic.magnitude)
    return patient.routine.miss_day_rate


def _bodies(device: SimDevice, vitals: Vitals, at: datetime) -> list[tuple[str, omh.Json]]:
    if device.kind is DeviceKind.SCALE:
        return [
            ("body-weight", omh.body_weight_body(vitals.weight_kg, at, unit=device.weight_unit))
        ]
    if device.kind is DeviceKind.BP_CUFF:
        return [
            ("blood-pressure", omh.blood_pressure_body(vitals.systolic, vitals.diastolic, at)),
            ("heart-rate", omh.heart_rate_body(vitals.hr, at)),
        ]
    return [
        ("oxygen-saturation", omh.oxygen_saturation_body(vitals.spo2, at)),
        ("heart-rate", omh.heart_rate_body(vitals.hr, at)),
    ]


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        msg = f"a timezone-aware datetime is required, got {at!r}"
        raise ValueError(msg)
    return at.astimezone(UTC)


def build_cohort(
    n_patients: int,
    *,
    seed: int = 0,
    end: datetime,
    days: int = 30,
    prefix: str | None = None,
    scenarios: bool = True,
    malformed_rate: float = 0.005,
    outage_rate: float = 0.04,
) -> Cohort:
    """Draw ``n_patients`` simulated patients monitored over the ``days`` before ``end``.

    The first four patients are CHF, COPD, HTN and default, the rest drawn at
    random; with ``scenarios`` the first CHF patient gains fluid, the first HTN
    patient has a hypertensive crisis, the first COPD patient's SpO2 declines and
    the first default patient stops measuring (later ones sometimes too); about
    one in seven of the later patients measures sporadically.
    ``prefix`` (default ``sim<seed>``) starts every serial, gateway key and
    patient id, so that several cohorts can be registered in one hub.
    """
    if n_patients < 1 or days < 1:
        msg = "a cohort needs at least one patient and one day"
        raise ValueError(msg)
    prefix = prefix if prefix is not None else f"sim{seed}"
    if not _PREFIX.match(prefix):
        msg = f"prefix must match {_PREFIX.pattern}: {prefix!r}"
        raise ValueError(msg)
    end = _utc(end)
    start = end - timedelta(days=days)
    rng = random.Random(f"{seed}/cohort")
    seen: set[Pathway] = set()
    patients: list[SimPatient] = []
    for i in range(n_patients):
        pathway = (
            _PATHWAYS[i] if i < len(_PATHWAYS) else rng.choices(_PATHWAYS, _PATHWAY_WEIGHTS)[0]
        )
        first = pathway not in seen
        seen.add(pathway)
        prng = random.Random(f"{seed}/patient/{i}")
        devices = tuple(
            SimDevice(
                serial=f"{prefix}-{i:04d}-{_SERIAL_CODE[kind]}",
                kind=kind,
                source_name=_SOURCE_NAME[kind],
                weight_unit="lb" if kind is DeviceKind.SCALE and prng.random() < 0.25 else "kg",
            )
            for kind in PATHWAY_DEVICES[pathway]
        )
        kinds = _scenario_kinds(pathway, first=first, rng=prng) if scenarios else ()
        patients.append(
            SimPatient(
                index=i,
                sim_id=f"{prefix}-p{i:04d}",
                pathway=pathway,
                gateway_key=f"{prefix}-gw{i:04d}",
                discharge_date=start.date() - timedelta(days=prng.randint(0, 14)),
                devices=devices,
                baseline=draw_baseline(prng, pathway),
                routine=draw_routine(prng, pathway),
                scenarios=tuple(draw_scenario(prng, k, end=end, start=start) for k in kinds),
            )
        )
    return Cohort(
        seed=seed,
        prefix=prefix,
        start=start,
        end=end,
        patients=tuple(patients),
        malformed_rate=malformed_rate,
        outage_rate=outage_rate,
    )


def _scenario_kinds(pathway: Pathway, *, first: bool, rng: random.Random) -> tuple[Scenario, ...]:
    draw = rng.random()
    if pathway is Pathway.CHF and (first or draw < 0.25):
        return (Scenario.FLUID_GAIN,)
    if pathway is Pathway.HTN and (first or draw < 0.10):
        return (Scenario.HYPERTENSIVE_CRISIS,)
    if pathway is Pathway.COPD and (first or draw < 0.20):
        return (Scenario.SPO2_DECLINE,)
    if pathway is Pathway.DEFAULT and (first or draw < 0.10):
        return (Scenario.NON_ADHERENT,)
    if not first and draw >= _SPORADIC_FROM:
        return (Scenario.SPORADIC,)
    return ()
