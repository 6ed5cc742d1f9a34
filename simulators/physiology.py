"""Simulated physiology: personal baselines, scenario trends and measurement noise.

Pure functions of a seeded :class:`random.Random`; nothing here touches the
clock. A scenario changes a vital as a function of time since its onset::

    >>> from datetime import UTC, datetime, timedelta
    >>> onset = datetime(2026, 11, 10, tzinfo=UTC)
    >>> gain = ScenarioSpec(Scenario.FLUID_GAIN, onset, days=6, magnitude=0.4)
    >>> round(offsets((gain,), onset + timedelta(days=3)).weight_kg, 2)
    1.2
    >>> round(offsets((gain,), onset + timedelta(days=20)).weight_kg, 2)
    2.4
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.models import Baseline, Pathway, Routine, Scenario, ScenarioSpec


def draw_baseline(rng: random.Random, pathway: Pathway) -> Baseline:
    """Personal normal values within the ranges seen in a monitored population."""
    weight = rng.uniform(55.0, 130.0)
    systolic = (
        rng.uniform(110.0, 150.0) if pathway is not Pathway.HTN else rng.uniform(130.0, 150.0)
    )
    diastolic = min(rng.uniform(65.0, 90.0), systolic - 35.0)
    spo2 = rng.uniform(92.0, 94.5) if pathway is Pathway.COPD else rng.uniform(94.5, 98.0)
    return Baseline(
        weight_kg=round(weight, 1),
        systolic=round(systolic, 1),
        diastolic=round(diastolic, 1),
        spo2=round(spo2, 1),
        resting_hr=round(rng.uniform(55.0, 90.0), 1),
    )


def draw_routine(rng: random.Random, pathway: Pathway) -> Routine:
    return Routine(
        wake_minute=rng.randint(6 * 60, 9 * 60),
        evening_minute=rng.randint(19 * 60, 22 * 60),
        spo2_twice=pathway is Pathway.COPD or rng.random() < 0.3,
        miss_day_rate=round(rng.uniform(0.05, 0.10), 3),
    )


def draw_scenario(
    rng: random.Random, kind: Scenario, *, end: datetime, start: datetime
) -> ScenarioSpec:
    """A scenario placed so that it develops inside ``[start, end)`` when the window allows.

    A sporadic patient has measured so all along: from ``start``, missing 60-75 % of days.
    """
    if kind is Scenario.SPORADIC:
        return ScenarioSpec(
            kind=kind, onset=start, days=0.0, magnitude=round(rng.uniform(0.6, 0.75), 2)
        )
    if kind is Scenario.FLUID_GAIN:
        days, magnitude = float(rng.randint(5, 7)), round(rng.uniform(0.3, 0.5), 2)
        lead = days + rng.randint(2, 4)
    elif kind is Scenario.HYPERTENSIVE_CRISIS:
        days, magnitude = round(rng.uniform(1.5, 2.5), 2), round(rng.uniform(55.0, 70.0), 1)
        lead = days + rng.randint(2, 8)
    elif kind is Scenario.SPO2_DECLINE:
        days, magnitude = float(rng.randint(4, 6)), round(rng.uniform(5.0, 8.0), 1)
        lead = days + rng.randint(2, 4)
    else:
        days, magnitude = 0.0, 0.0
        lead = float(rng.randint(5, 10))
    window_days = (end - start) / timedelta(days=1)
    lead = min(lead, max(window_days * 0.6, 0.5))
    onset = end - timedelta(days=lead, minutes=rng.randint(0, 12 * 60))
    onset = max(onset, start)
    return ScenarioSpec(kind=kind, onset=onset, days=days, magnitude=magnitude)


@dataclass(frozen=True, slots=True)
class Offsets:
    """What the active scenarios add to the baseline at one moment."""

    weight_kg: float = 0.0
    systolic: float = 0.0
    diastolic: float = 0.0
    spo2: float = 0.0
    hr: float = 0.0


def _progress(spec: ScenarioSpec, at: datetime) -> float:
    """0 before onset, rising linearly to 1 after ``spec.days``."""
    elapsed = (at - spec.onset) / timedelta(days=1)
    if elapsed <= 0:
        return 0.0
    if spec.days <= 0:
        return 1.0
    return min(elapsed / spec.days, 1.0)


def offsets(scenarios: tuple[ScenarioSpec, ...], at: datetime) -> Offsets:
    weight = systolic = diastolic = spo2 = hr = 0.0
    for spec in scenarios:
        p = _progress(spec, at)
        if p == 0.0:
            continue
        if spec.kind is Scenario.FLUID_GAIN:
            # Fluid keeps on board once gained: the trend plateaus, it does not resolve.
            weight += spec.magnitude * spec.days * p
            hr += 6.0 * p
        elif spec.kind is Scenario.HYPERTENSIVE_CRISIS:
            elapsed = (at - spec.onset) / timedelta(days=1)
            # Rises over the first quarter day, holds, then subsides over a day.
            rise = min(elapsed / 0.25, 1.0)
            fall = max(0.0, 1.0 - max(0.0, elapsed - spec.days))
            level = rise * fall
            systolic += spec.magnitude * level
            diastolic += spec.magnitude * 0.6 * level
            hr += 8.0 * level
        elif spec.kind is Scenario.SPO2_DECLINE:
            spo2 -= spec.magnitude * p
            hr += 8.0 * p
    return Offsets(weight_kg=weight, systolic=systolic, diastolic=diastolic, spo2=spo2, hr=hr)


@dataclass(frozen=True, slots=True)
class Vitals:
    weight_kg: float
    systolic: float
    diastolic: float
    spo2: float
    hr: float


def measure_vitals(
    rng: random.Random, baseline: Baseline, scenarios: tuple[ScenarioSpec, ...], at: datetime
) -> Vitals:
    """One moment's readings: baseline, scenario offsets, time of day and noise."""
    off = offsets(scenarios, at)
    evening = 2.0 if at.hour >= 17 else 0.0
    systolic = baseline.systolic + off.systolic + evening + rng.gauss(0.0, 6.0)
    diastolic = baseline.diastolic + off.diastolic + rng.gauss(0.0, 4.0)
    diastolic = min(diastolic, systolic - 20.0)
    return Vitals(
        weight_kg=baseline.weight_kg + off.weight_kg + rng.gauss(0.0, 0.25),
        systolic=systolic,
        diastolic=diastolic,
        spo2=min(100.0, baseline.spo2 + off.spo2 + rng.gauss(0.0, 0.8)),
        hr=baseline.resting_hr + off.hr + rng.gauss(0.0, 4.0),
    )
