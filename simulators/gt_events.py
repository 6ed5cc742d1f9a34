"""When injected events happen to one simulated patient, and how large they are.

Times here are days since the cohort's start (floats); :mod:`simulators.groundtruth`
turns them into UTC datetimes. Events of one patient never overlap: each is
placed after the previous one's recovery (a refractory period), so rates are
nominal upper bounds and the ground truth is what counts. Rates per
patient-year, chosen to resemble a post-discharge population:

- decompensation (CHF): 0.8, doubled in the first 30 days after discharge;
- COPD exacerbation (COPD): 1.0; hypertensive episode: 0.5 (HTN), 0.1 (others);
- non-adherence (a gap of 4-21 days on one or all devices): 1.2;
- drop-out: a hazard of 0.15 per year;
- weekend weight bumps (confounder, patients with a scale): 5, in free weeks.

>>> import numpy as np
>>> from simulators.models import Pathway
>>> s = draw_schedule(np.random.default_rng(3), Pathway.CHF, days=365.0, has_scale=True)
>>> all(a.busy_until <= b.onset for a, b in zip(s.primary, s.primary[1:]))
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulators.gt_models import TruthKind
from simulators.models import Pathway

#: Nominal rates per patient-year.
RATES: Mapping[TruthKind, Mapping[Pathway, float]] = {
    TruthKind.DECOMPENSATION: {Pathway.CHF: 0.8},
    TruthKind.COPD_EXACERBATION: {Pathway.COPD: 1.0},
    TruthKind.HYPERTENSIVE_EPISODE: {
        Pathway.HTN: 0.5,
        Pathway.CHF: 0.1,
        Pathway.COPD: 0.1,
        Pathway.DEFAULT: 0.1,
    },
    TruthKind.NON_ADHERENCE: dict.fromkeys(Pathway, 1.2),
}
DROPOUT_HAZARD = 0.15
WEEKEND_BUMP_RATE = 5.0
EARLY_DAYS, EARLY_FACTOR = 30.0, 2.0
_YEAR = 365.25
#: No event starts before the patient has a few days of readings.
_WARMUP = 3.0


@dataclass(frozen=True, slots=True)
class Episode:
    """One event in days since the start; ``busy_until`` ends its refractory period.

    ``device_slot`` says which of the patient's devices a non-adherence gap
    silences (-1: all of them).
    """

    kind: TruthKind
    onset: float
    event: float
    returns: float | None
    busy_until: float
    params: Mapping[str, float] = field(default_factory=dict)
    device_slot: int = -1


@dataclass(frozen=True, slots=True)
class Schedule:
    """A patient's events; ``follow_end`` is the drop-out (or the window's end)."""

    primary: tuple[Episode, ...]
    bumps: tuple[Episode, ...]
    follow_end: float
    dropout: Episode | None

    def absent(
        self, t: np.ndarray[tuple[int], np.dtype[np.float64]]
    ) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
        """Whether the patient is away (in hospital, or gone) at each time of ``t``."""
        out = t >= self.follow_end
        for ep in self.primary:
            if ep.returns is not None:
                out |= (t >= ep.event) & (t < ep.returns)
        return out


def _r(x: float) -> float:
    return round(float(x), 4)


def _decompensation(rng: np.random.Generator, onset: float) -> Episode:
    days = _r(float(rng.integers(7, 22)) + float(rng.uniform(0.0, 1.0)))
    rate = _r(rng.uniform(0.1, 0.5))
    absence = float(rng.uniform(3.0, 10.0))
    event = onset + days
    params = {
        "days": days,
        "rate_kg_per_day": rate,
        "gain_kg": _r(rate * days),
        "hr_rise": _r(rng.uniform(5.0, 15.0)) if rng.random() < 0.5 else 0.0,
        "systolic_change": _r(rng.uniform(-15.0, 20.0)) if rng.random() < 0.4 else 0.0,
        "spo2_drop": _r(rng.uniform(1.0, 3.0)) if rng.random() < 0.3 else 0.0,
        "absence_days": _r(absence),
        "new_dry_weight_delta_kg": _r(rng.uniform(-2.5, 0.5)),
    }
    return Episode(
        TruthKind.DECOMPENSATION, onset, event, event + absence, event + absence + 14.0, params
    )


def _exacerbation(rng: np.random.Generator, onset: float) -> Episode:
    days = float(rng.uniform(3.0, 10.0))
    event = onset + days
    admitted = rng.random() < 0.5
    absence = float(rng.uniform(3.0, 8.0)) if admitted else 0.0
    recovery = absence + float(rng.uniform(2.0, 5.0))
    params = {
        "days": _r(days),
        "spo2_drop": _r(rng.uniform(3.0, 6.0)),
        "hr_rise": _r(rng.uniform(8.0, 20.0)),
        "absence_days": _r(absence),
        "recovery_days": _r(recovery),
    }
    returns = event + absence if admitted else None
    return Episode(
        TruthKind.COPD_EXACERBATION, onset, event, returns, event + recovery + 14.0, params
    )


def _hypertensive(rng: np.random.Generator, onset: float) -> Episode:
    days = float(rng.uniform(3.0, 10.0))
    event = onset + days
    hold, resolve = 1.0, float(rng.uniform(1.0, 3.0))
    params = {
        "days": _r(days),
        "systolic_rise": _r(rng.uniform(40.0, 70.0)),
        "hr_rise": _r(rng.uniform(0.0, 8.0)),
        "hold_days": hold,
        "resolve_days": _r(resolve),
    }
    busy = event + hold + resolve + 7.0
    return Episode(TruthKind.HYPERTENSIVE_EPISODE, onset, event, None, busy, params)


def _gap(rng: np.random.Generator, onset: float, n_devices: int) -> Episode:
    days = float(rng.integers(4, 22))
    slot = -1 if rng.random() < 0.6 or n_devices == 1 else int(rng.integers(0, n_devices))
    params = {"days": days, "all_devices": 1.0 if slot < 0 else 0.0}
    return Episode(
        TruthKind.NON_ADHERENCE, onset, onset + days, None, onset + days + 3.0, params, slot
    )


_MAKERS = {
    TruthKind.DECOMPENSATION: _decompensation,
    TruthKind.COPD_EXACERBATION: _exacerbation,
    TruthKind.HYPERTENSIVE_EPISODE: _hypertensive,
}


def draw_schedule(
    rng: np.random.Generator,
    pathway: Pathway,
    *,
    days: float,
    has_scale: bool,
    n_devices: int = 2,
    first_saturday: float = 0.0,
) -> Schedule:
    """Draw one patient's events over ``[0, days)``.

    ``first_saturday`` is the first Saturday's midnight, in days since the start.
    """
    drop = float(rng.exponential(_YEAR / DROPOUT_HAZARD))
    follow_end = min(days, drop)
    n_days = math.ceil(days)
    day = np.arange(n_days, dtype=np.float64)
    candidates: list[tuple[float, TruthKind]] = []
    for kind, by_pathway in RATES.items():
        rate = by_pathway.get(pathway, 0.0)
        if rate <= 0.0:
            continue
        p = rate / _YEAR * np.where(day < EARLY_DAYS, EARLY_FACTOR, 1.0)
        if kind is TruthKind.NON_ADHERENCE:
            p = np.full(n_days, rate / _YEAR)
        hits = np.flatnonzero(rng.random(n_days) < p)
        onsets = hits + rng.uniform(0.0, 1.0, hits.size)
        candidates.extend((float(t), kind) for t in onsets)
    candidates.sort()
    primary: list[Episode] = []
    free_from = _WARMUP
    for onset, kind in candidates:
        if onset < free_from:
            continue
        ep = (
            _gap(rng, onset, n_devices)
            if kind is TruthKind.NON_ADHERENCE
            else _MAKERS[kind](rng, onset)
        )
        end = ep.returns if ep.returns is not None else ep.event
        if end >= follow_end - 1.0:
            continue
        primary.append(ep)
        free_from = ep.busy_until
    bumps = _bumps(rng, primary, follow_end, first_saturday) if has_scale else []
    dropout = None
    if drop < days:
        dropout = Episode(TruthKind.DROPOUT, drop, days, None, days)
    return Schedule(tuple(primary), tuple(bumps), follow_end, dropout)


def _bumps(
    rng: np.random.Generator, primary: list[Episode], follow_end: float, first_saturday: float
) -> list[Episode]:
    """Weekend weight bumps of ~1 kg, in weeks free of any primary event.

    A bump starts on a Saturday noon, peaks at Monday's morning weighing and is
    gone by Thursday night.
    """
    n_weeks = int(follow_end // 7)
    hits = np.flatnonzero(rng.random(n_weeks) < WEEKEND_BUMP_RATE / 52.18)
    out: list[Episode] = []
    for week in hits:
        onset = first_saturday + 7.0 * float(week) + 0.5
        peak, gone = onset + 1.8, onset + 5.0
        if gone >= follow_end or any(
            onset - 1.0 < ep.busy_until and ep.onset < gone + 1.0 for ep in primary
        ):
            continue
        params = {"amplitude_kg": _r(rng.uniform(0.8, 1.3)), "resolve_days": _r(gone - peak)}
        out.append(Episode(TruthKind.WEEKEND_BUMP, onset, peak, None, gone, params))
    return out
