"""Types of the v2 generator: events in days since the start, and a patient's plan.

Simulated patients only. A :class:`Spell` becomes one
:class:`~simulators.gt_models.TruthEvent` of the ground truth;
:mod:`simulators.truth.patient` turns its days into UTC datetimes.

>>> import numpy as np
>>> from simulators.gt_models import TruthKind
>>> stay = Spell(TruthKind.DECOMPENSATION, 10.0, 20.0, returns=25.0, busy_until=39.0)
>>> plan = Plan(primary=(stay,), confounders=(), follow_end=300.0, dropout=None)
>>> plan.absent(np.array([19.0, 21.0, 26.0, 301.0])).tolist()
[False, True, False, True]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from hub.domain import Measure
from simulators.gt_models import TruthKind

F64 = np.ndarray[tuple[int], np.dtype[np.float64]]
I64 = np.ndarray[tuple[int], np.dtype[np.int64]]
B = np.ndarray[tuple[int], np.dtype[np.bool_]]


def r4(x: float) -> float:
    """Rounded as the ground-truth file keeps it, so that the file round-trips."""
    return round(float(x), 4)


@dataclass(frozen=True, slots=True)
class Spell:
    """One event of a patient, in days since the cohort's start.

    ``event`` is the admission (a deterioration), the peak or the end of a
    change (a confounder), or when readings resume (a gap); ``busy_until``
    ends a deterioration's or gap's refractory period. ``device_slot`` is the
    device a gap silences (-1: all) or, for a replaced scale, the new one.
    """

    kind: TruthKind
    onset: float
    event: float
    returns: float | None = None
    busy_until: float = 0.0
    params: Mapping[str, float] = field(default_factory=dict)
    variant: str | None = None
    measure: Measure | None = None
    device_slot: int = -1


@dataclass(frozen=True, slots=True)
class Plan:
    """A patient's events: deteriorations and gaps (never overlapping each other),
    confounders (overlapping anything), and the drop-out."""

    primary: tuple[Spell, ...]
    confounders: tuple[Spell, ...]
    follow_end: float
    dropout: Spell | None

    def of_kind(self, kind: TruthKind) -> list[Spell]:
        return [s for s in (*self.primary, *self.confounders) if s.kind is kind]

    def absent(self, t: F64) -> B:
        """Whether the patient is away (in hospital, or gone) at each time of ``t``."""
        out: B = t >= self.follow_end
        for s in self.primary:
            if s.returns is not None:
                out |= (t >= s.event) & (t < s.returns)
        return out

    def returns(self) -> list[float]:
        """When the patient came home from each hospital stay."""
        return [s.returns for s in self.primary if s.returns is not None]


@dataclass(frozen=True, slots=True)
class Traits:
    """One patient's habits and variabilities (see :mod:`simulators.truth.traits`).

    Weights in kg, pressures in mmHg, rates per day unless named otherwise.
    """

    weight_day_sd: float
    weight_phi: float
    weight_noise_sd: float
    weekly_kg: float
    season_kg: float
    season_systolic: float
    monday_systolic: float
    systolic_day_sd: float
    systolic_noise_sd: float
    diastolic_day_sd: float
    diastolic_noise_sd: float
    hr_day_sd: float
    hr_noise_sd: float
    spo2_day_sd: float
    spo2_noise_sd: float
    miss_day_rate: float
    weekend_miss_factor: float
    weekend_late_min: float
    second_weighing_rate: float
    clothed_runs_per_year: float
    bp_spike_rate: float
    outlier_factor: float
    outage_rate: float
    lb_scale: bool

    def as_params(self) -> dict[str, float]:
        """The traits as the ground truth records them (``lb_scale`` as 0 or 1)."""
        return {f.name: r4(float(getattr(self, f.name))) for f in fields(self)}
