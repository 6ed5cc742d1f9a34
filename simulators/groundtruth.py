"""Long simulated cohorts with ground truth, for evaluating the detectors.

Simulated patients only. :func:`build_truth_cohort` draws patients (pathway,
personal baseline, routine, devices), their events (:mod:`simulators.gt_events`)
and every reading their devices send (:mod:`simulators.gt_signals`). The result
is a pure function of the seed; each patient's data depend only on the seed and
the patient's index, never on the size of the cohort.

- :meth:`TruthCohort.readings` streams :class:`~streaming.models.StreamReading`
  in arrival order (canonical units: kg, mmHg, %, bpm);
- :attr:`TruthCohort.truth` is the :class:`~simulators.gt_models.GroundTruth`,
  written with :meth:`~simulators.gt_models.GroundTruth.write`;
- :func:`to_data_point` and :func:`sim_events` turn readings into the Open
  mHealth payloads and MQTT messages of :mod:`simulators.omh`, for the path
  through the real pipeline.

>>> from datetime import UTC, datetime
>>> c = build_truth_cohort(3, seed=1, start=datetime(2026, 1, 1, tzinfo=UTC), days=60)
>>> [p.pathway.value for p in c.truth.patients]
['CHF', 'COPD', 'HTN']
>>> rs = list(c.readings())
>>> len(rs) == c.n_readings and all(a.received_at <= b.received_at for a, b in zip(rs, rs[1:]))
True
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from hub.domain import DeviceKind, Measure
from simulators import omh
from simulators.cohort import PATHWAY_DEVICES
from simulators.gt_events import Episode, draw_schedule
from simulators.gt_models import GroundTruth, TruthEvent, TruthKind, TruthPatient
from simulators.gt_signals import MEASURES, Calendar, PatientSeries, simulate_patient
from simulators.models import Baseline, EventKind, Pathway, Routine, SimEvent
from simulators.physiology import draw_baseline, draw_routine
from streaming.models import StreamReading

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: Pathway mix of a post-discharge monitoring programme.
PATHWAY_MIX: Mapping[Pathway, float] = {
    Pathway.CHF: 0.40,
    Pathway.COPD: 0.25,
    Pathway.HTN: 0.20,
    Pathway.DEFAULT: 0.15,
}
_ORDER = (Pathway.CHF, Pathway.COPD, Pathway.HTN, Pathway.DEFAULT)
_WEIGHTS = [PATHWAY_MIX[p] for p in _ORDER]
_ID_NAMESPACE = uuid.UUID("6f1c1a52-3c0e-4d59-9a51-6c6173746d31")
_SERIAL_CODE = {DeviceKind.SCALE: "SC", DeviceKind.BP_CUFF: "BP", DeviceKind.PULSE_OXIMETER: "OX"}
_SOURCE_NAME = {
    DeviceKind.SCALE: "SimScale WS-50",
    DeviceKind.BP_CUFF: "SimCuff BP-7",
    DeviceKind.PULSE_OXIMETER: "SimOx PO-3",
}


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """What was drawn for one patient besides the events."""

    baseline: Baseline
    routine: Routine
    device_ids: tuple[int, ...]


@dataclass(frozen=True)
class TruthCohort:
    """A simulated cohort, its readings (kept as arrays) and its ground truth."""

    truth: GroundTruth
    profiles: tuple[PatientProfile, ...]
    series: tuple[PatientSeries, ...]

    @property
    def n_readings(self) -> int:
        return sum(len(s) for s in self.series)

    @property
    def patients(self) -> tuple[TruthPatient, ...]:
        return self.truth.patients

    def patient_readings(self, index: int) -> Iterator[StreamReading]:
        """One patient's readings in arrival order."""
        s, p = self.series[index], self.truth.patients[index]
        ids = self.profiles[index].device_ids
        for i in range(len(s)):
            yield self._reading(p.patient_id, ids, s, i)

    def readings(self) -> Iterator[StreamReading]:
        """Every reading of the cohort in arrival order (then measurement time, patient)."""
        if not self.series:
            return
        who = np.concatenate(
            [np.full(len(s), i, dtype=np.int64) for i, s in enumerate(self.series)]
        )
        row = np.concatenate([np.arange(len(s), dtype=np.int64) for s in self.series])
        received = np.concatenate([s.received_s for s in self.series])
        measured = np.concatenate([s.measured_s for s in self.series])
        order = np.lexsort((row, who, measured, received))
        patients, profiles, series = self.truth.patients, self.profiles, self.series
        for k in order.tolist():
            i = int(who[k])
            yield self._reading(
                patients[i].patient_id, profiles[i].device_ids, series[i], int(row[k])
            )

    def _reading(
        self, patient_id: uuid.UUID, device_ids: tuple[int, ...], s: PatientSeries, i: int
    ) -> StreamReading:
        start = self.truth.start
        v2 = float(s.value2[i])
        return StreamReading(
            patient_id=patient_id,
            device_id=device_ids[int(s.device[i])],
            measure=MEASURES[int(s.measure[i])],
            measured_at=start + timedelta(seconds=int(s.measured_s[i])),
            value=float(s.value[i]),
            value2=None if v2 != v2 else v2,
            received_at=start + timedelta(seconds=int(s.received_s[i])),
        )


def patient_uuid(seed: int, index: int) -> uuid.UUID:
    """The simulated patient's id: stable for a seed and an index."""
    return uuid.uuid5(_ID_NAMESPACE, f"lastmile-sim/{seed}/{index}")


def _at(start: datetime, days: float) -> datetime:
    return start + timedelta(seconds=round(days * 86_400))


def _calendar(start: datetime) -> tuple[Calendar, float]:
    day_of_year = float(start.timetuple().tm_yday - 1)
    first_saturday = float((5 - start.weekday()) % 7)
    return Calendar(day_of_year=day_of_year, weekday=start.weekday()), first_saturday


def build_truth_cohort(
    n_patients: int,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    days: float = 365.0,
) -> TruthCohort:
    """Draw ``n_patients`` patients monitored for ``days`` from ``start`` (at midnight UTC).

    The first four patients are CHF, COPD, HTN and default; the rest follow
    :data:`PATHWAY_MIX`. 500 patients over a year take a few seconds.
    """
    if n_patients < 1 or days < 1 or seed < 0:
        msg = "a cohort needs a patient, a day, and a seed >= 0"
        raise ValueError(msg)
    if start.tzinfo is None:
        msg = f"a timezone-aware start is required, got {start!r}"
        raise ValueError(msg)
    start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = _at(start, days)
    calendar, first_saturday = _calendar(start)
    mix = random.Random(f"{seed}/gt/cohort")
    patients: list[TruthPatient] = []
    profiles: list[PatientProfile] = []
    series: list[PatientSeries] = []
    events: list[TruthEvent] = []
    for i in range(n_patients):
        pathway = _ORDER[i] if i < len(_ORDER) else mix.choices(_ORDER, _WEIGHTS)[0]
        prng = random.Random(f"{seed}/gt/patient/{i}")
        baseline, routine = draw_baseline(prng, pathway), draw_routine(prng, pathway)
        devices = PATHWAY_DEVICES[pathway]
        rng = np.random.default_rng((seed, i))
        schedule = draw_schedule(
            rng,
            pathway,
            days=days,
            has_scale=DeviceKind.SCALE in devices,
            n_devices=len(devices),
            first_saturday=first_saturday,
        )
        s, outliers = simulate_patient(
            rng,
            baseline=baseline,
            routine=routine,
            devices=devices,
            schedule=schedule,
            days=days,
            calendar=calendar,
            copd=pathway is Pathway.COPD,
        )
        pid = patient_uuid(seed, i)
        patients.append(
            TruthPatient(
                index=i,
                patient_id=pid,
                pathway=pathway,
                devices=devices,
                start=start,
                follow_end=_at(start, schedule.follow_end),
                baseline={
                    "weight_kg": baseline.weight_kg,
                    "systolic": baseline.systolic,
                    "diastolic": baseline.diastolic,
                    "spo2": baseline.spo2,
                    "resting_hr": baseline.resting_hr,
                },
            )
        )
        profiles.append(
            PatientProfile(baseline, routine, tuple(i * 4 + k + 1 for k in range(len(devices))))
        )
        series.append(s)
        episodes = [*schedule.primary, *schedule.bumps]
        if schedule.dropout is not None:
            episodes.append(schedule.dropout)
        events.extend(_truth_event(start, i, pid, ep, devices) for ep in episodes)
        events.extend(
            TruthEvent(
                i,
                pid,
                TruthKind.OUTLIER,
                start + timedelta(seconds=o.measured_s),
                start + timedelta(seconds=o.measured_s),
                params={"delta": o.delta},
                measure=o.measure,
            )
            for o in outliers
        )
    events.sort(key=lambda e: (e.onset, e.patient_index, e.kind.value))
    truth = GroundTruth(seed, start, end, tuple(patients), tuple(events))
    return TruthCohort(truth, tuple(profiles), tuple(series))


def _truth_event(
    start: datetime, index: int, pid: uuid.UUID, ep: Episode, devices: tuple[DeviceKind, ...]
) -> TruthEvent:
    params = dict(ep.params)
    if ep.kind is TruthKind.NON_ADHERENCE and ep.device_slot >= 0:
        params["device_slot"] = float(ep.device_slot)
    return TruthEvent(
        patient_index=index,
        patient_id=pid,
        kind=ep.kind,
        onset=_at(start, ep.onset),
        event_time=_at(start, ep.event),
        returns_at=_at(start, ep.returns) if ep.returns is not None else None,
        params=params,
        measure=Measure.BODY_WEIGHT if ep.kind is TruthKind.WEEKEND_BUMP else None,
    )


# -- the MQTT path ---------------------------------------------------------------------------


def to_data_point(
    reading: StreamReading, *, header_id: str, source_name: str, weight_unit: str = "kg"
) -> omh.Json:
    """The Open mHealth data point a device would send for ``reading``."""
    at = reading.measured_at.astimezone(UTC)
    if reading.measure is Measure.BODY_WEIGHT:
        body = omh.body_weight_body(reading.value, at, unit=weight_unit)
    elif reading.measure is Measure.BLOOD_PRESSURE:
        diastolic = reading.value2 if reading.value2 is not None else reading.value - 40.0
        body = omh.blood_pressure_body(reading.value, diastolic, at)
    elif reading.measure is Measure.HEART_RATE:
        body = omh.heart_rate_body(reading.value, at)
    else:
        body = omh.oxygen_saturation_body(reading.value, at)
    return omh.data_point(
        body,
        reading.measure.value,
        header_id=header_id,
        created=at,
        source_name=source_name,
    )


def sim_events(cohort: TruthCohort, *, prefix: str) -> Iterator[SimEvent]:
    """The cohort's readings as MQTT messages, one data point each, due when received.

    Gateway keys are ``<prefix>-gw<index>`` and serials ``<prefix>-<index>-<SC|BP|OX>``
    (the conventions of :mod:`simulators.cohort`); header ids are stable per reading.
    """
    by_id = {p.patient_id: p for p in cohort.patients}
    first_id = {p.patient_id: cohort.profiles[p.index].device_ids[0] for p in cohort.patients}
    for r in cohort.readings():
        patient = by_id[r.patient_id]
        kind = patient.devices[r.device_id - first_id[r.patient_id]]
        key = f"{r.patient_id}/{r.device_id}/{r.measure.value}/{r.measured_at.isoformat()}"
        point = to_data_point(
            r,
            header_id=str(uuid.uuid5(_ID_NAMESPACE, key)),
            source_name=_SOURCE_NAME.get(kind, "SimDevice"),
        )
        yield SimEvent(
            due=r.received_at,
            gateway_key=f"{prefix}-gw{patient.index:04d}",
            device_serial=f"{prefix}-{patient.index:04d}-{_SERIAL_CODE.get(kind, 'MX')}",
            payload=omh.encode(point),
            kind=EventKind.NORMAL,
        )
