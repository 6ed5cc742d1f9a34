"""Types of a ground-truth cohort: who was simulated, and what happened to them when.

Simulated patients only. A :class:`TruthEvent` is one injected event (a
deterioration, a lapse in adherence) or one confounder (something that should
*not* raise an alert). Every event has an ``onset`` (the first moment the data
change) and an ``event_time``:

- deteriorations (``decompensation``, ``copd_exacerbation``,
  ``hypertensive_episode``): the labelled admission or urgent visit; the patient
  may then be absent until ``returns_at``;
- adherence (``non_adherence``, ``dropout``): when readings resume (for a
  drop-out, the end of follow-up);
- confounders (``weekend_bump``, ``outlier``, and in the v2 generator
  :mod:`simulators.truth` the weight gains that are not decompensation, odd
  weighings, a replaced scale, blood-pressure and SpO2 look-alikes): the peak
  of a bump, the end of a change that then stays, or the one odd reading.

A ``variant`` names the shape of a v2 event (``steady``, ``accelerating`` or
``stepwise`` for a decompensation, ...); its drawn sizes are in ``params``.

The ground-truth file is JSON (:meth:`GroundTruth.to_json`); times are RFC 3339
UTC with a ``Z``. Keys added for the v2 generator (``generator``, a patient's
``device_units`` and ``traits``, an event's ``variant``) are written only when
they are set, so a v1 file is byte for byte what it was before v2 existed, and a
file without ``generator`` was made by v1.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from hub.domain import DeviceKind, Measure
from simulators.models import Baseline, Pathway, Routine


class TruthKind(enum.StrEnum):
    DECOMPENSATION = "decompensation"
    COPD_EXACERBATION = "copd_exacerbation"
    HYPERTENSIVE_EPISODE = "hypertensive_episode"
    NON_ADHERENCE = "non_adherence"
    DROPOUT = "dropout"
    WEEKEND_BUMP = "weekend_bump"
    OUTLIER = "outlier"
    # Confounders of the v2 generator (simulators.truth).
    HOLIDAY_GAIN = "holiday_gain"
    SEASONAL_GAIN = "seasonal_gain"
    POST_DISCHARGE_REGAIN = "post_discharge_regain"
    DIURETIC_CHANGE = "diuretic_change"
    CLOTHED_WEIGHING = "clothed_weighing"
    SECOND_WEIGHING = "second_weighing"
    SCALE_REPLACED = "scale_replaced"
    STRESS_WEEK = "stress_week"
    MORNING_BP_SPIKE = "morning_bp_spike"
    POOR_PERFUSION = "poor_perfusion"

    @property
    def confounder(self) -> bool:
        """True for what should not alert."""
        return not self.deterioration and self not in (TruthKind.NON_ADHERENCE, TruthKind.DROPOUT)

    @property
    def single_reading(self) -> bool:
        """True for a confounder that is one reading (its onset is its event time)."""
        return self in (TruthKind.OUTLIER, TruthKind.SECOND_WEIGHING, TruthKind.MORNING_BP_SPIKE)

    @property
    def deterioration(self) -> bool:
        return self in (
            TruthKind.DECOMPENSATION,
            TruthKind.COPD_EXACERBATION,
            TruthKind.HYPERTENSIVE_EPISODE,
        )


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """One injected event of one patient; ``params`` are its drawn magnitudes."""

    patient_index: int
    patient_id: UUID
    kind: TruthKind
    onset: datetime
    event_time: datetime
    returns_at: datetime | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    measure: Measure | None = None
    variant: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "patient_index": self.patient_index,
            "patient_id": str(self.patient_id),
            "kind": self.kind.value,
            "confounder": self.kind.confounder,
            "onset": _iso(self.onset),
            "event_time": _iso(self.event_time),
            "returns_at": _iso(self.returns_at) if self.returns_at is not None else None,
            "params": {k: round(v, 4) for k, v in self.params.items()},
            "measure": self.measure.value if self.measure is not None else None,
        }
        if self.variant is not None:
            out["variant"] = self.variant
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TruthEvent:
        back = data.get("returns_at")
        return cls(
            patient_index=int(data["patient_index"]),
            patient_id=UUID(str(data["patient_id"])),
            kind=TruthKind(data["kind"]),
            onset=_parse(str(data["onset"])),
            event_time=_parse(str(data["event_time"])),
            returns_at=_parse(str(back)) if back is not None else None,
            params={str(k): float(v) for k, v in dict(data.get("params", {})).items()},
            measure=Measure(data["measure"]) if data.get("measure") is not None else None,
            variant=str(data["variant"]) if data.get("variant") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class TruthPatient:
    """One simulated patient of a ground-truth cohort.

    ``follow_end`` is the end of the window, or the drop-out; exposure (the
    patient-time over which false alerts are counted) is ``start … follow_end``.

    ``devices`` lists every device the patient had, in slot order; a scale
    that replaced another comes after the first ones (v2). ``device_units``
    is the weight unit each device reports (``kg`` or ``lb``; empty: all kg),
    ``traits`` the patient's drawn habits and variabilities (v2).
    """

    index: int
    patient_id: UUID
    pathway: Pathway
    devices: tuple[DeviceKind, ...]
    start: datetime
    follow_end: datetime
    baseline: Mapping[str, float]
    device_units: tuple[str, ...] = ()
    traits: Mapping[str, float] = field(default_factory=dict)

    @property
    def exposure_years(self) -> float:
        return (self.follow_end - self.start).total_seconds() / (365.25 * 86_400)

    def unit_of(self, slot: int) -> str:
        """The weight unit the device in ``slot`` reports."""
        return self.device_units[slot] if slot < len(self.device_units) else "kg"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "patient_id": str(self.patient_id),
            "pathway": self.pathway.value,
            "devices": [d.value for d in self.devices],
            "start": _iso(self.start),
            "follow_end": _iso(self.follow_end),
            "baseline": {k: round(v, 3) for k, v in self.baseline.items()},
        }
        if self.device_units:
            out["device_units"] = list(self.device_units)
        if self.traits:
            out["traits"] = {k: round(v, 4) for k, v in self.traits.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TruthPatient:
        return cls(
            index=int(data["index"]),
            patient_id=UUID(str(data["patient_id"])),
            pathway=Pathway(data["pathway"]),
            devices=tuple(DeviceKind(d) for d in data["devices"]),
            start=_parse(str(data["start"])),
            follow_end=_parse(str(data["follow_end"])),
            baseline={str(k): float(v) for k, v in dict(data["baseline"]).items()},
            device_units=tuple(str(u) for u in data.get("device_units", ())),
            traits={str(k): float(v) for k, v in dict(data.get("traits", {})).items()},
        )


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """What was drawn for one patient besides the events; ``device_ids`` per device slot."""

    baseline: Baseline
    routine: Routine
    device_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Everything injected into a cohort: its patients and their events, in onset order.

    ``generator`` is the simulator that made it (``v1`` or ``v2``).
    """

    seed: int
    start: datetime
    end: datetime
    patients: tuple[TruthPatient, ...]
    events: tuple[TruthEvent, ...]
    generator: str = "v1"

    @property
    def patient_years(self) -> float:
        return sum(p.exposure_years for p in self.patients)

    def of_kind(self, kind: TruthKind) -> list[TruthEvent]:
        return [e for e in self.events if e.kind is kind]

    def to_json(self) -> bytes:
        head: dict[str, Any] = {"simulated": True}
        if self.generator != "v1":
            head["generator"] = self.generator
        return orjson.dumps(
            {
                **head,
                "seed": self.seed,
                "start": _iso(self.start),
                "end": _iso(self.end),
                "patient_years": round(self.patient_years, 3),
                "patients": [p.to_json() for p in self.patients],
                "events": [e.to_json() for e in self.events],
            }
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_json())

    @classmethod
    def from_json(cls, raw: bytes) -> GroundTruth:
        data = orjson.loads(raw)
        return cls(
            seed=int(data["seed"]),
            start=_parse(data["start"]),
            end=_parse(data["end"]),
            patients=tuple(TruthPatient.from_json(p) for p in data["patients"]),
            events=tuple(TruthEvent.from_json(e) for e in data["events"]),
            generator=str(data.get("generator", "v1")),
        )

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.from_json(path.read_bytes())


def at_day(start: datetime, days: float) -> datetime:
    """The time ``days`` (a float) after ``start``, to the second."""
    return start + timedelta(seconds=round(days * 86_400))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
