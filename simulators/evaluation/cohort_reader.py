"""Read a cohort file into patients, events and the readings the hub would store, in arrival order.

The file is streamed once (:func:`read_cohort`); lines may come in any order.
Each reading line's data point goes through the hub's own
:class:`~ingest.validation.Validator` (schema, units to canonical, plausible
values, time rules, with ``now`` = the line's ``received_at``) and is kept
in compact columns (about 50 bytes a reading), so a year of 300 patients
fits in a few tens of megabytes. Then, as the hub would:

- **arrival order**: ``received_at``, then measurement time, device, measure
  (:func:`streaming.rows.position_of`, the order of a batch);
- **duplicates**: a reading with the device, measure and measurement time
  of one that arrived before it stores nothing (the readings table's natural
  key); it is counted, not run;
- **devices**: a reading's ``device`` serial names a device of its patient;
  without one, each patient has one implicit device per measure. Device ids
  are numbered in the order of (patient key, serial), so ties in arrival
  order fall the same way whatever the order of the file's lines.

Every line not used and every data point the hub would refuse is one entry
of a :class:`~simulators.evaluation.cohort_format.ProblemLog` (counted by code, written
to the rejections file).
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from hub.alerting import StreamReading
from hub.domain import Measure
from ingest.validation import Validator
from simulators.evaluation.cohort_format import (
    DEFAULT_KIND,
    EventLine,
    LineCode,
    LineProblem,
    MetaLine,
    PatientLine,
    ProblemLog,
    ReadingLine,
    parse_line,
    patient_uuid,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Measures in the order of their names (``position_of`` compares ``measure.value``).
MEASURES = tuple(sorted(Measure, key=lambda m: m.value))
_MEASURE_CODE = {m: i for i, m in enumerate(MEASURES)}
#: Readings turned into Python objects at a time (the columns stay compact).
_CHUNK = 16_384


def _us(at: datetime) -> int:
    return (at - _EPOCH) // _US


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True)
class CohortPatient:
    """A patient of the cohort; ``until`` is the end of follow-up (given, or the last receipt)."""

    index: int
    key: str
    patient_id: UUID
    pathway: str
    timezone: str
    enrolled: datetime
    until: datetime
    discharged: datetime | None = None
    overrides: Mapping[str, float | int | str] = field(default_factory=dict)
    device_ids: tuple[int, ...] = ()

    @property
    def exposure_years(self) -> float:
        return max((self.until - self.enrolled).total_seconds(), 0.0) / (365.25 * 86_400)


@dataclass(frozen=True, slots=True)
class CohortEvent:
    patient: CohortPatient
    kind: str
    admission: datetime
    onset: datetime | None
    gain_kg: float | None
    line: int


@dataclass(slots=True)
class Counts:
    lines: int = 0
    patient_lines: int = 0
    reading_lines: int = 0
    event_lines: int = 0
    meta_lines: int = 0
    points: int = 0  # data points in usable reading lines
    refused: int = 0  # of them, refused by the hub's validator
    unknown_patient: int = 0  # valid, but of a key without a patient line
    duplicates: int = 0
    stored: int = 0  # what the run is given


@dataclass
class _Columns:
    """Valid data points as the pass found them (before order and duplicates)."""

    received: array[int] = field(default_factory=lambda: array("q"))
    measured: array[int] = field(default_factory=lambda: array("q"))
    device: array[int] = field(default_factory=lambda: array("q"))
    measure: array[int] = field(default_factory=lambda: array("b"))
    value: array[float] = field(default_factory=lambda: array("d"))
    value2: array[float] = field(default_factory=lambda: array("d"))
    patient: array[int] = field(default_factory=lambda: array("q"))
    activity: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cohort:
    """A cohort read from a file: what a run needs, and what was left out."""

    patients: tuple[CohortPatient, ...]
    events: tuple[CohortEvent, ...]
    meta: tuple[Mapping[str, Any], ...]
    counts: Counts
    #: The stored readings in arrival order, as columns (see :meth:`readings`).
    columns: Mapping[str, np.ndarray[Any, Any]]
    activity: Mapping[int, str]

    @property
    def patient_years(self) -> float:
        return sum(p.exposure_years for p in self.patients)

    def only_pathway(self, pathway: str) -> Cohort:
        """The same cohort with the readings and events of ``pathway``'s patients only."""
        keep = np.array([p.pathway == pathway for p in self.patients], dtype=bool)
        mask = keep[self.columns["patient"]] if len(keep) else np.zeros(0, dtype=bool)
        return dataclasses.replace(
            self,
            events=tuple(e for e in self.events if e.patient.pathway == pathway),
            columns={name: col[mask] for name, col in self.columns.items()},
        )

    def readings(self) -> Iterator[StreamReading]:
        """The readings the hub would store, in its arrival order, canonical units."""
        c, ids = self.columns, [p.patient_id for p in self.patients]
        activity = self.activity
        names = ("patient", "device", "measure", "measured", "value", "value2", "received", "row")
        for lo in range(0, len(c["row"]), _CHUNK):
            rows = zip(*(c[name][lo : lo + _CHUNK].tolist() for name in names), strict=True)
            for patient, device, measure, measured, value, value2, received, row in rows:
                yield StreamReading(
                    ids[patient],
                    device,
                    MEASURES[measure],
                    _at(measured),
                    value,
                    None if math.isnan(value2) else value2,
                    _at(received),
                    activity.get(row),
                )


def read_cohort(
    source: Path | Iterable[bytes], *, validator: Validator, problems: ProblemLog | None = None
) -> Cohort:
    """Read a cohort file (a path, or its lines as bytes); see the module docstring."""
    log = problems if problems is not None else ProblemLog()
    if isinstance(source, Path):
        with source.open("rb") as f:
            return _read(f, validator, log)
    return _read(source, validator, log)


class _Pass:
    """What the one pass over the lines collects."""

    def __init__(self, validator: Validator, log: ProblemLog) -> None:
        self.validator, self.log = validator, log
        self.counts = Counts()
        self.keys: dict[str, int] = {}  # key -> provisional patient number
        self.patients: dict[str, PatientLine] = {}
        self.events: list[EventLine] = []
        self.meta: list[Mapping[str, Any]] = []
        self.devices: dict[tuple[int, int, str], int] = {}  # (patient, explicit?, name) -> number
        self.reading_lines: dict[int, array[int]] = {}  # patient number -> its line numbers
        self.cols = _Columns()

    def line(self, parsed: object) -> None:
        if isinstance(parsed, ReadingLine):
            self.reading(parsed)
        elif isinstance(parsed, PatientLine):
            self.counts.patient_lines += 1
            first = self.patients.setdefault(parsed.key, parsed)
            if first is not parsed:
                detail = f"patient {parsed.key!r} was defined on line {first.line}"
                self.log.add("line", parsed.line, LineCode.PATIENT_DUPLICATE, detail)
            self.keys.setdefault(parsed.key, len(self.keys))
        elif isinstance(parsed, EventLine):
            self.counts.event_lines += 1
            self.events.append(parsed)
        elif isinstance(parsed, MetaLine):
            self.counts.meta_lines += 1
            self.meta.append(parsed.fields)
        elif isinstance(parsed, LineProblem):
            self.log.add("line", parsed.line, parsed.code, parsed.detail)

    def reading(self, r: ReadingLine) -> None:
        self.counts.reading_lines += 1
        patient = self.keys.setdefault(r.patient, len(self.keys))
        self.reading_lines.setdefault(patient, array("q")).append(r.line)
        message = self.validator.parse(r.payload, now=r.received_at)
        for rejection in message.rejections:
            self.counts.points += 1
            self.counts.refused += 1
            self.log.add(
                "reading",
                r.line,
                rejection.code,
                rejection.detail,
                patient=r.patient,
                header_id=rejection.header_id,
                index=rejection.index,
            )
        cols, received = self.cols, _us(r.received_at)
        for _, point in message.points:
            self.counts.points += 1
            name = r.device if r.device is not None else point.measure.value
            key = (patient, int(r.device is not None), name)
            device = self.devices.setdefault(key, len(self.devices))
            if point.activity is not None:
                cols.activity[len(cols.received)] = point.activity
            cols.received.append(received)
            cols.measured.append(_us(point.measured_at))
            cols.device.append(device)
            cols.measure.append(_MEASURE_CODE[point.measure])
            cols.value.append(point.value)
            cols.value2.append(math.nan if point.value2 is None else point.value2)
            cols.patient.append(patient)


def _read(lines: Iterable[bytes], validator: Validator, log: ProblemLog) -> Cohort:
    state = _Pass(validator, log)
    for number, raw in enumerate(lines, start=1):
        state.counts.lines = number
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some editors write
        state.line(parse_line(raw, number))
    return _finish(state)


def _finish(s: _Pass) -> Cohort:
    keys = sorted(s.patients)
    final = np.full(len(s.keys), -1, dtype=np.int64)
    for index, key in enumerate(keys):
        final[s.keys[key]] = index
    known = {s.keys[k] for k in keys}
    for key, number in s.keys.items():
        if number not in known:
            for line in sorted(set(s.reading_lines.get(number, ()))):
                s.log.add("line", line, LineCode.PATIENT_UNKNOWN, f"no patient line for {key!r}")
    names = {number: key for key, number in s.keys.items()}
    device_order = sorted(s.devices, key=lambda k: (names[k[0]], k[1], k[2]))
    device_id = np.zeros(len(s.devices), dtype=np.int64)
    for number, dev in enumerate(device_order, start=1):
        device_id[s.devices[dev]] = number
    cols = _ordered(s, final, device_id)
    counts = s.counts
    counts.stored = len(cols["row"])
    last = np.full(len(keys), -1, dtype=np.int64)
    np.maximum.at(last, cols["patient"], cols["received"])
    devices: dict[int, list[int]] = {}
    for dev in device_order:
        if final[dev[0]] >= 0:
            devices.setdefault(int(final[dev[0]]), []).append(int(device_id[s.devices[dev]]))
    patients = tuple(
        _patient(i, s.patients[k], int(last[i]), tuple(devices.get(i, ())))
        for i, k in enumerate(keys)
    )
    by_key = {p.key: p for p in patients}
    events = []
    for e in s.events:
        p = by_key.get(e.patient)
        if p is None:
            s.log.add(
                "line", e.line, LineCode.PATIENT_UNKNOWN, f"no patient line for {e.patient!r}"
            )
            continue
        kind = e.kind or DEFAULT_KIND.get(p.pathway)
        if kind is None:
            detail = "kind: required for a patient on the default pathway"
            s.log.add("line", e.line, LineCode.FIELD_MISSING, detail)
            continue
        events.append(CohortEvent(p, kind, e.admission, e.onset, e.gain_kg, e.line))
    events.sort(key=lambda e: (e.admission, e.patient.key, e.kind))
    return Cohort(patients, tuple(events), tuple(s.meta), counts, cols, s.cols.activity)


def _ordered(
    s: _Pass, final: np.ndarray[Any, Any], device_id: np.ndarray[Any, Any]
) -> dict[str, np.ndarray[Any, Any]]:
    """The known patients' readings in arrival order, each duplicate after the first dropped."""
    c = s.cols
    raw = {
        "received": np.frombuffer(c.received, dtype=np.int64),
        "measured": np.frombuffer(c.measured, dtype=np.int64),
        "device": device_id[np.frombuffer(c.device, dtype=np.int64)]
        if len(c.device)
        else np.zeros(0, dtype=np.int64),
        "measure": np.frombuffer(c.measure, dtype=np.int8),
        "value": np.frombuffer(c.value, dtype=np.float64),
        "value2": np.frombuffer(c.value2, dtype=np.float64),
        "patient": final[np.frombuffer(c.patient, dtype=np.int64)]
        if len(c.patient)
        else np.zeros(0, dtype=np.int64),
    }
    keep = np.flatnonzero(raw["patient"] >= 0)
    s.counts.unknown_patient = len(c.received) - len(keep)
    order = keep[
        np.lexsort(
            (
                raw["measure"][keep],
                raw["device"][keep],
                raw["measured"][keep],
                raw["received"][keep],
            )
        )
    ]
    # The first of each (device, measure, measured) in arrival order is stored.
    rank = np.arange(len(order))
    by_key = np.lexsort((rank, raw["measured"][order], raw["measure"][order], raw["device"][order]))
    d, m, t = (
        raw["device"][order][by_key],
        raw["measure"][order][by_key],
        raw["measured"][order][by_key],
    )
    repeat = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        repeat[1:] = (d[1:] == d[:-1]) & (m[1:] == m[:-1]) & (t[1:] == t[:-1])
    first = np.ones(len(order), dtype=bool)
    first[by_key[repeat]] = False
    s.counts.duplicates = int(repeat.sum())
    stored = order[first]
    out = {name: column[stored] for name, column in raw.items()}
    out["row"] = stored
    return out


def _patient(index: int, p: PatientLine, last_us: int, devices: tuple[int, ...]) -> CohortPatient:
    until = p.until
    if until is None:
        until = _at(last_us) if last_us >= 0 else p.enrolled
        until = max(until, p.enrolled)
    return CohortPatient(
        index=index,
        key=p.key,
        patient_id=patient_uuid(p.key),
        pathway=p.pathway,
        timezone=p.timezone,
        enrolled=p.enrolled,
        until=until,
        discharged=p.discharged,
        overrides=p.overrides,
        device_ids=devices,
    )
