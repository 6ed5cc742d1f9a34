"""Long simulated cohorts with ground truth, for evaluating the detectors.

Simulated patients only. :func:`build_truth_cohort` draws patients (pathway,
personal baseline, routine, devices), their events and every reading their
devices send, with one of two generators:

- ``v2`` (the default, :mod:`simulators.truth`): what home telemonitoring data
  really look like: decompensations of many shapes, sizes and speeds, weight
  gains that are not decompensations (overlapping the real ones), clothed and
  second weighings, scales in pounds, replaced scales, patients who stop
  measuring when sick, noise of each patient's own size;
- ``v1`` (:mod:`simulators.gt_v1`, :mod:`simulators.gt_events`,
  :mod:`simulators.gt_signals`): the first, kinder simulator, kept reading for
  reading as it was.

The result is a pure function of the seed; each patient's data depend only on
the seed and the patient's index, never on the size of the cohort.

- :meth:`TruthCohort.readings` streams :class:`~hub.alerting.StreamReading`
  in arrival order (canonical units: kg, mmHg, %, bpm; a reading of a scale in
  pounds is its lb value converted exactly as the hub converts it);
- :attr:`TruthCohort.truth` is the :class:`~simulators.gt_models.GroundTruth`,
  written with :meth:`~simulators.gt_models.GroundTruth.write`;
- :meth:`TruthCohort.devices` and :meth:`TruthCohort.device_of` say which device
  sent a reading, its unit and serial; :func:`to_data_point` and
  :func:`sim_events` turn readings into the Open mHealth payloads and MQTT
  messages of :mod:`simulators.omh`, for the path through the real pipeline.

>>> from datetime import UTC, datetime
>>> c = build_truth_cohort(3, seed=1, start=datetime(2026, 1, 1, tzinfo=UTC), days=60)
>>> [p.pathway.value for p in c.truth.patients], c.truth.generator
(['CHF', 'COPD', 'HTN'], 'v2')
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
from functools import cached_property

import numpy as np

from hub.alerting import StreamReading
from hub.domain import DeviceKind, Measure
from simulators import gt_v1, omh
from simulators.gt_models import (
    GroundTruth,
    PatientProfile,
    TruthEvent,
    TruthKind,
    TruthPatient,
)
from simulators.gt_signals import MEASURES, Calendar, PatientSeries
from simulators.models import EventKind, Pathway, SimEvent
from simulators.truth import patient as v2

__all__ = [
    "DEFAULT_START",
    "GENERATORS",
    "PATHWAY_MIX",
    "PatientProfile",
    "TruthCohort",
    "TruthDevice",
    "build_truth_cohort",
    "patient_uuid",
    "sim_events",
    "to_data_point",
]

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: The generators :func:`build_truth_cohort` knows.
GENERATORS = ("v1", "v2")
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
#: The source name of a second device of a kind (a replacement scale).
_SECOND_SOURCE_NAME = {DeviceKind.SCALE: "SimScale WS-70"}


@dataclass(frozen=True, slots=True)
class TruthDevice:
    """One device of a simulated patient.

    ``unit`` is the weight unit it reports (``kg`` for all but some scales);
    ``serial_code`` ends its serial (``SC``, ``BP``, ``OX``; ``SC2`` for a second
    scale). A replaced scale is in use ``active_from`` until ``active_until``.
    """

    slot: int
    device_id: int
    kind: DeviceKind
    unit: str
    serial_code: str
    source_name: str
    active_from: datetime
    active_until: datetime | None = None

    def serial(self, prefix: str, patient_index: int) -> str:
        """``<prefix>-<index>-<code>``, the convention of :mod:`simulators.cohort`."""
        return f"{prefix}-{patient_index:04d}-{self.serial_code}"


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

    @property
    def generator(self) -> str:
        return self.truth.generator

    @cached_property
    def _replacements(self) -> dict[int, list[TruthEvent]]:
        out: dict[int, list[TruthEvent]] = {}
        for e in self.truth.of_kind(TruthKind.SCALE_REPLACED):
            out.setdefault(e.patient_index, []).append(e)
        return out

    def devices(self, index: int) -> tuple[TruthDevice, ...]:
        """The devices of patient ``index``, in slot order (a replacement scale last)."""
        p, ids = self.truth.patients[index], self.profiles[index].device_ids
        since = [p.start] * len(p.devices)
        until: list[datetime | None] = [None] * len(p.devices)
        for e in self._replacements.get(index, []):
            new, old = int(e.params["device_slot"]), int(e.params["replaces_slot"])
            since[new], until[old] = e.onset, e.onset
        out, seen = [], dict.fromkeys(DeviceKind, 0)
        for slot, kind in enumerate(p.devices):
            seen[kind] += 1
            code = _SERIAL_CODE.get(kind, "MX") + (str(seen[kind]) if seen[kind] > 1 else "")
            name = _SOURCE_NAME.get(kind, "SimDevice")
            if seen[kind] > 1:
                name = _SECOND_SOURCE_NAME.get(kind, name)
            out.append(
                TruthDevice(
                    slot, ids[slot], kind, p.unit_of(slot), code, name, since[slot], until[slot]
                )
            )
        return tuple(out)

    @cached_property
    def _device_index(self) -> dict[int, TruthDevice]:
        return {d.device_id: d for i in range(len(self.patients)) for d in self.devices(i)}

    def device_of(self, reading: StreamReading) -> TruthDevice:
        """The device that sent ``reading``."""
        return self._device_index[reading.device_id]

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


def build_truth_cohort(
    n_patients: int,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    days: float = 365.0,
    generator: str = "v2",
) -> TruthCohort:
    """Draw ``n_patients`` patients monitored for ``days`` from ``start`` (at midnight UTC).

    The first four patients are CHF, COPD, HTN and default; the rest follow
    :data:`PATHWAY_MIX`. ``generator`` is ``v2`` (default) or ``v1`` (see the
    module's docstring). 550 patients over a year take well under a minute.
    """
    if n_patients < 1 or days < 1 or seed < 0:
        msg = "a cohort needs a patient, a day, and a seed >= 0"
        raise ValueError(msg)
    if start.tzinfo is None:
        msg = f"a timezone-aware start is required, got {start!r}"
        raise ValueError(msg)
    if generator not in GENERATORS:
        msg = f"unknown generator {generator!r}; choose one of {', '.join(GENERATORS)}"
        raise ValueError(msg)
    draw = gt_v1.draw_patient if generator == "v1" else v2.draw_patient
    start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(seconds=round(days * 86_400))
    calendar = Calendar(day_of_year=float(start.timetuple().tm_yday - 1), weekday=start.weekday())
    mix = random.Random(f"{seed}/gt/cohort")
    patients: list[TruthPatient] = []
    profiles: list[PatientProfile] = []
    series: list[PatientSeries] = []
    events: list[TruthEvent] = []
    for i in range(n_patients):
        pathway = _ORDER[i] if i < len(_ORDER) else mix.choices(_ORDER, _WEIGHTS)[0]
        patient, profile, s, mine = draw(
            seed,
            i,
            pathway,
            patient_id=patient_uuid(seed, i),
            start=start,
            days=days,
            calendar=calendar,
        )
        patients.append(patient)
        profiles.append(profile)
        series.append(s)
        events.extend(mine)
    events.sort(key=lambda e: (e.onset, e.patient_index, e.kind.value))
    truth = GroundTruth(seed, start, end, tuple(patients), tuple(events), generator=generator)
    return TruthCohort(truth, tuple(profiles), tuple(series))


# -- the MQTT path ---------------------------------------------------------------------------


def to_data_point(
    reading: StreamReading, *, header_id: str, source_name: str, weight_unit: str = "kg"
) -> omh.Json:
    """The Open mHealth data point a device would send for ``reading``.

    ``weight_unit`` is the unit the device reports (:attr:`TruthDevice.unit`);
    a weight in ``lb`` is written to 0.1 lb, which gives back the device's 0.2 lb
    value exactly, and the hub's conversion of it gives back ``reading.value``.
    """
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

    Gateway keys are ``<prefix>-gw<index>`` and serials ``<prefix>-<index>-<code>``
    (:meth:`TruthDevice.serial`, the conventions of :mod:`simulators.cohort`);
    weights go in the unit of the device; header ids are stable per reading.
    """
    index = {p.patient_id: p.index for p in cohort.patients}
    for r in cohort.readings():
        i = index[r.patient_id]
        device = cohort.device_of(r)
        key = f"{r.patient_id}/{r.device_id}/{r.measure.value}/{r.measured_at.isoformat()}"
        point = to_data_point(
            r,
            header_id=str(uuid.uuid5(_ID_NAMESPACE, key)),
            source_name=device.source_name,
            weight_unit=device.unit,
        )
        yield SimEvent(
            due=r.received_at,
            gateway_key=f"{prefix}-gw{i:04d}",
            device_serial=device.serial(prefix, i),
            payload=omh.encode(point),
            kind=EventKind.NORMAL,
        )
