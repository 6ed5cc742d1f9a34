"""Synthetic, seeded series of readings for the streaming tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hub.domain import Measure
from streaming.detectors import Observation

START = datetime(2025, 1, 6, 7, 30, tzinfo=UTC)


def at(day: float, hour: float = 0.0) -> datetime:
    return START + timedelta(days=day, hours=hour)


def healthy(measure: Measure, seed: int, days: int = 90) -> list[Observation]:
    """Daily readings of a stable patient with realistic noise and missed days.

    Weight (noise SD 0.35 kg) has a weekend bump; measurement times wander by
    an hour or two.
    """
    rng = random.Random(seed)
    out: list[Observation] = []
    for day in range(days):
        if rng.random() < 0.1:
            continue
        when = at(day, rng.uniform(-1.0, 2.0))
        match measure:
            case Measure.BODY_WEIGHT:
                weekend = 0.2 if day % 7 in (5, 6) else 0.0
                out.append(
                    Observation(when, round(80 + weekend + rng.gauss(0, 0.35), 1), None, measure)
                )
            case Measure.BLOOD_PRESSURE:
                sys_, dia = rng.gauss(132, 8), rng.gauss(82, 6)
                out.append(Observation(when, round(sys_), round(dia), measure))
            case Measure.HEART_RATE:
                out.append(Observation(when, round(rng.gauss(72, 6)), None, measure))
            case Measure.OXYGEN_SATURATION:
                out.append(Observation(when, min(100, round(rng.gauss(96, 1))), None, measure))
            case Measure.BODY_TEMPERATURE:
                out.append(Observation(when, round(rng.gauss(36.7, 0.25), 1), None, measure))
    return out


def shifted(series: list[Observation], days: float) -> list[Observation]:
    return [o._replace(at=o.at + timedelta(days=days)) for o in series]


def daily(
    values: list[float],
    first_day: float = 0,
    value2: float | None = None,
    measure: Measure | None = None,
    hour: float = 0.0,
) -> list[Observation]:
    """One reading a day from ``first_day``, at the same time of day."""
    return [Observation(at(first_day + i, hour), v, value2, measure) for i, v in enumerate(values)]


def respiratory(seed: int, days: int = 90) -> list[Observation]:
    """Healthy SpO2 and heart rate of one patient, in time order (a joint detector's input)."""
    both = healthy(Measure.OXYGEN_SATURATION, seed, days) + healthy(Measure.HEART_RATE, seed, days)
    return sorted(both, key=lambda o: o.at)


def weight_creep(
    *, flat_days: int, creep_days: int, kg_per_day: float, seed: int = 0
) -> list[Observation]:
    """A stable weight, then a creep of ``kg_per_day`` (noise SD 0.3 kg)."""
    rng = random.Random(seed)
    values = [80 + rng.gauss(0, 0.3) for _ in range(flat_days)]
    values += [80 + kg_per_day * (d + 1) + rng.gauss(0, 0.3) for d in range(creep_days)]
    return daily([round(v, 2) for v in values], measure=Measure.BODY_WEIGHT)
