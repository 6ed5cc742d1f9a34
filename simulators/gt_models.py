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
- confounders (``weekend_bump``, ``outlier``): the peak of the bump, or the
  one odd reading.

The ground-truth file is JSON (:meth:`GroundTruth.to_json`); times are RFC 3339
UTC with a ``Z``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from hub.domain import DeviceKind, Measure
from simulators.models import Pathway


class TruthKind(enum.StrEnum):
    DECOMPENSATION = "decompensation"
    COPD_EXACERBATION = "copd_exacerbation"
    HYPERTENSIVE_EPISODE = "hypertensive_episode"
    NON_ADHERENCE = "non_adherence"
    DROPOUT = "dropout"
    WEEKEND_BUMP = "weekend_bump"
    OUTLIER = "outlier"

    @property
    def confounder(self) -> bool:
        """True for what should not alert."""
        return self in (TruthKind.WEEKEND_BUMP, TruthKind.OUTLIER)

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

    def to_json(self) -> dict[str, Any]:
        return {
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
        )


@dataclass(frozen=True, slots=True)
class TruthPatient:
    """One simulated patient of a ground-truth cohort.

    ``follow_end`` is the end of the window, or the drop-out; exposure (the
    patient-time over which false alerts are counted) is ``start … follow_end``.
    """

    index: int
    patient_id: UUID
    pathway: Pathway
    devices: tuple[DeviceKind, ...]
    start: datetime
    follow_end: datetime
    baseline: Mapping[str, float]

    @property
    def exposure_years(self) -> float:
        return (self.follow_end - self.start).total_seconds() / (365.25 * 86_400)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "patient_id": str(self.patient_id),
            "pathway": self.pathway.value,
            "devices": [d.value for d in self.devices],
            "start": _iso(self.start),
            "follow_end": _iso(self.follow_end),
            "baseline": {k: round(v, 3) for k, v in self.baseline.items()},
        }

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
        )


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Everything injected into a cohort: its patients and their events, in onset order."""

    seed: int
    start: datetime
    end: datetime
    patients: tuple[TruthPatient, ...]
    events: tuple[TruthEvent, ...]

    @property
    def patient_years(self) -> float:
        return sum(p.exposure_years for p in self.patients)

    def of_kind(self, kind: TruthKind) -> list[TruthEvent]:
        return [e for e in self.events if e.kind is kind]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "simulated": True,
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
        )

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.from_json(path.read_bytes())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
