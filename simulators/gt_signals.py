"""One simulated patient's readings over a long window, vectorized with numpy.

A vital is the sum of a personal level, a slow seasonal swing (weight and blood
pressure higher in winter), day-to-day physiological variation (an AR(1)
process per vital), a weekly pattern (a little heavier on Sunday and Monday
mornings, blood pressure up on Mondays), the offsets of the patient's events
(:func:`offsets`), measurement noise, and rare single outliers (a coat on the
scale, a cuff after climbing the stairs, cold fingers on the oximeter).

Days are missed at the patient's rate (more often at weekends), single
measurements at 3 %; nothing is measured while the patient is in hospital,
in a non-adherence gap (for the silenced device) or after a drop-out. A
gateway offline for hours delivers what it stored when it comes back, so the
arrival order is not always the measurement order.

>>> import numpy as np
>>> from simulators.gt_events import Episode, Schedule
>>> from simulators.gt_models import TruthKind
>>> ep = Episode(TruthKind.DECOMPENSATION, 10.0, 20.0, 25.0, 39.0,
...              {"gain_kg": 3.0, "new_dry_weight_delta_kg": -1.0})
>>> off = offsets(Schedule((ep,), (), 365.0, None), np.array([10.0, 15.0, 20.0, 30.0]))
>>> [round(float(x), 2) for x in off.weight]
[0.0, 1.5, 3.0, -1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hub.domain import DeviceKind, Measure
from simulators.gt_events import Schedule
from simulators.gt_models import TruthKind
from simulators.models import Baseline, Routine

F64 = np.ndarray[tuple[int], np.dtype[np.float64]]
I64 = np.ndarray[tuple[int], np.dtype[np.int64]]
I8 = np.ndarray[tuple[int], np.dtype[np.int8]]

#: Measure codes of :attr:`PatientSeries.measure`.
MEASURES = (
    Measure.BODY_WEIGHT,
    Measure.BLOOD_PRESSURE,
    Measure.OXYGEN_SATURATION,
    Measure.HEART_RATE,
)
_W, _BP, _SPO2, _HR = range(4)
_DAY_S = 86_400
SLOT_MISS = 0.03
OUTAGE_RATE = 0.03
#: Per-reading chance of a single outlier, by measure code.
OUTLIER_RATE = (0.004, 0.004, 0.004, 0.003)


@dataclass(frozen=True, slots=True)
class Offsets:
    """What the patient's events add to each vital at the times asked."""

    weight: F64
    systolic: F64
    hr: F64
    spo2: F64


def ramp(t: F64, a: float, b: float) -> F64:
    """0 before ``a``, rising linearly to 1 at ``b``, 1 after."""
    return np.asarray(np.clip((t - a) / max(b - a, 1e-9), 0.0, 1.0), dtype=np.float64)


def offsets(schedule: Schedule, t: F64) -> Offsets:
    """Event offsets at times ``t`` (days since the start); the weight includes new dry weights."""
    weight = np.zeros_like(t)
    systolic, hr, spo2 = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
    for ep in schedule.primary:
        p = ep.params
        if ep.kind is TruthKind.DECOMPENSATION:
            returns = ep.returns if ep.returns is not None else ep.event
            level = ramp(t, ep.onset, ep.event) * (t < returns)
            weight += p["gain_kg"] * level + p["new_dry_weight_delta_kg"] * (t >= returns)
            hr += p.get("hr_rise", 0.0) * level
            systolic += p.get("systolic_change", 0.0) * level
            spo2 -= p.get("spo2_drop", 0.0) * level
        elif ep.kind is TruthKind.COPD_EXACERBATION:
            level = ramp(t, ep.onset, ep.event) * (
                1.0 - ramp(t, ep.event, ep.event + p["recovery_days"])
            )
            spo2 -= p["spo2_drop"] * level
            hr += p["hr_rise"] * level
        elif ep.kind is TruthKind.HYPERTENSIVE_EPISODE:
            ease = ep.event + p["hold_days"]
            level = ramp(t, ep.onset, ep.event) * (1.0 - ramp(t, ease, ease + p["resolve_days"]))
            systolic += p["systolic_rise"] * level
            hr += p["hr_rise"] * level
    for ep in schedule.bumps:
        level = ramp(t, ep.onset, ep.event) * (1.0 - ramp(t, ep.event, ep.busy_until))
        weight += ep.params["amplitude_kg"] * level
    return Offsets(weight, systolic, hr, spo2)


@dataclass(frozen=True, slots=True)
class PatientSeries:
    """One patient's readings in arrival order; times in seconds since the start.

    ``measure`` indexes :data:`MEASURES`, ``device`` the patient's devices;
    ``value2`` is the diastolic pressure (NaN for other measures).
    """

    measure: I8
    device: I8
    measured_s: I64
    received_s: I64
    value: F64
    value2: F64

    def __len__(self) -> int:
        return int(self.measure.size)


@dataclass(frozen=True, slots=True)
class Outlier:
    measured_s: int
    measure: Measure
    delta: float


@dataclass(frozen=True, slots=True)
class Calendar:
    """Where the window sits in the calendar: day of year and weekday (Monday 0) of day 0."""

    day_of_year: float
    weekday: int


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> F64:
    """An AR(1) series of stationary standard deviation ``sd``."""
    e = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    x = float(rng.normal(0.0, sd))
    for i in range(n):
        x = phi * x + float(e[i])
        out[i] = x
    return out


def _slots(
    rng: np.random.Generator, devices: tuple[DeviceKind, ...], routine: Routine, n: int
) -> list[tuple[int, bool, F64]]:
    """(device index, evening?, minute of day per day) of every planned measurement."""
    out: list[tuple[int, bool, F64]] = []
    wake = routine.wake_minute + rng.integers(-25, 26, n)
    for i, kind in enumerate(devices):
        if kind is DeviceKind.SCALE:
            out.append((i, False, wake.astype(np.float64)))
        elif kind is DeviceKind.BP_CUFF:
            out.append((i, False, (wake + rng.integers(5, 26, n)).astype(np.float64)))
            evening = routine.evening_minute + rng.integers(-40, 41, n)
            out.append((i, True, evening.astype(np.float64)))
        elif kind is DeviceKind.PULSE_OXIMETER:
            out.append((i, False, (wake + rng.integers(30, 91, n)).astype(np.float64)))
            if routine.spo2_twice:
                out.append((i, False, rng.integers(15 * 60, 18 * 60, n).astype(np.float64)))
    return out


def simulate_patient(
    rng: np.random.Generator,
    *,
    baseline: Baseline,
    routine: Routine,
    devices: tuple[DeviceKind, ...],
    schedule: Schedule,
    days: float,
    calendar: Calendar,
    copd: bool = False,
) -> tuple[PatientSeries, list[Outlier]]:
    """Every reading the patient's devices send over ``[0, days)``, and its outliers."""
    n = math.ceil(days)
    day = np.arange(n)
    weekday = (calendar.weekday + day) % 7
    weekend = weekday >= 5
    missed_day = rng.random(n) < routine.miss_day_rate * np.where(weekend, 1.6, 1.0)
    ar_w, ar_sys = ar1(rng, n, 0.7, 0.35), ar1(rng, n, 0.5, 5.0)
    ar_dia, ar_hr = ar1(rng, n, 0.5, 3.0), ar1(rng, n, 0.5, 3.0)
    ar_spo2 = ar1(rng, n, 0.6, 0.9 if copd else 0.6)
    season_w, season_bp = float(rng.uniform(0.3, 1.0)), float(rng.uniform(2.0, 6.0))
    sunday_kg, monday_mmhg = float(rng.uniform(0.0, 0.3)), float(rng.uniform(0.0, 3.0))
    chunks: list[tuple[I8, I8, F64, F64, F64]] = []
    outliers: list[Outlier] = []
    for dev, evening, minute in _slots(rng, devices, routine, n):
        t = day + (minute * 60.0 + rng.integers(0, 60, n)) / _DAY_S
        keep = ~missed_day & (rng.random(n) >= SLOT_MISS) & ~schedule.absent(t) & (t < days)
        for ep in schedule.primary:
            if ep.kind is TruthKind.NON_ADHERENCE and ep.device_slot in (-1, dev):
                keep &= (t < ep.onset) | (t >= ep.event)
        t, d, wd = t[keep], day[keep], weekday[keep]
        off = offsets(schedule, t)
        winter = np.cos(2.0 * math.pi * (calendar.day_of_year + t - 15.0) / 365.25)
        kind = devices[dev]
        if kind is DeviceKind.SCALE:
            w = baseline.weight_kg + season_w * winter + ar_w[d] + off.weight
            w = w + sunday_kg * np.isin(wd, (0, 6)) + rng.normal(0.0, 0.15, t.size)
            w = _outliers(
                rng, w, t, _W, outliers, lambda k: _sign(rng, k) * rng.uniform(1.2, 3.0, k)
            )
            chunks.append(chunk(_W, dev, t, np.round(w, 1), np.full(t.size, np.nan)))
            continue
        hr = baseline.resting_hr + ar_hr[d] + off.hr + rng.normal(0.0, 3.0, t.size)
        hr = _outliers(rng, hr, t, _HR, outliers, lambda k: rng.uniform(25.0, 45.0, k))
        if kind is DeviceKind.BP_CUFF:
            shift = season_bp * winter + ar_sys[d] + off.systolic
            sys_ = baseline.systolic + shift + rng.normal(0.0, 6.0, t.size)
            sys_ = sys_ + (3.0 if evening else 0.0) + monday_mmhg * (wd == 0)
            sys_ = _outliers(rng, sys_, t, _BP, outliers, lambda k: rng.uniform(25.0, 45.0, k))
            dia = baseline.diastolic + 0.5 * shift + ar_dia[d] + rng.normal(0.0, 4.0, t.size)
            dia = np.minimum(dia + 0.4 * (sys_ - baseline.systolic - shift), sys_ - 20.0)
            chunks.append(chunk(_BP, dev, t, np.round(sys_), np.round(dia)))
        else:
            spo2 = baseline.spo2 + ar_spo2[d] + off.spo2 + rng.normal(0.0, 0.8, t.size)
            spo2 = _outliers(rng, spo2, t, _SPO2, outliers, lambda k: -rng.uniform(4.0, 9.0, k))
            chunks.append(chunk(_SPO2, dev, t, np.minimum(np.round(spo2), 100.0), None))
        chunks.append(chunk(_HR, dev, t, np.round(hr), None))
    return arrivals(rng, chunks, n), sorted(outliers, key=lambda o: o.measured_s)


def _sign(rng: np.random.Generator, k: int) -> F64:
    return np.where(rng.random(k) < 0.8, 1.0, -1.0)


def _outliers(
    rng: np.random.Generator,
    values: F64,
    t: F64,
    code: int,
    found: list[Outlier],
    delta: Callable[[int], F64],
) -> F64:
    hit = np.flatnonzero(rng.random(values.size) < OUTLIER_RATE[code])
    if hit.size == 0:
        return values
    deltas = np.asarray(delta(hit.size), dtype=np.float64)
    out = values.copy()
    out[hit] += deltas
    found.extend(
        Outlier(round(float(t[i]) * _DAY_S), MEASURES[code], round(float(x), 2))
        for i, x in zip(hit, deltas, strict=True)
    )
    return out


def chunk(
    code: int, dev: int, t: F64, value: F64, value2: F64 | None
) -> tuple[I8, I8, F64, F64, F64]:
    k = t.size
    v2 = value2 if value2 is not None else np.full(k, np.nan)
    return (np.full(k, code, np.int8), np.full(k, dev, np.int8), t, value, v2)


def arrivals(
    rng: np.random.Generator,
    chunks: list[tuple[I8, I8, F64, F64, F64]],
    n: int,
    *,
    outage_rate: float = OUTAGE_RATE,
) -> PatientSeries:
    """The chunks' readings in arrival order: each sent 5-90 s after it was measured, except
    what a gateway offline for 2-16 h (on a share ``outage_rate`` of days) stored and
    sent when it came back."""
    measure = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros(0, np.int8)
    device = np.concatenate([c[1] for c in chunks]) if chunks else np.zeros(0, np.int8)
    t = np.concatenate([c[2] for c in chunks]) if chunks else np.zeros(0)
    value = np.concatenate([c[3] for c in chunks]) if chunks else np.zeros(0)
    value2 = np.concatenate([c[4] for c in chunks]) if chunks else np.zeros(0)
    measured = np.round(t * _DAY_S).astype(np.int64)
    received = measured + rng.integers(5, 91, measured.size)
    outage_days = np.flatnonzero(rng.random(n) < outage_rate)
    for d in outage_days:
        begin = int(d) * _DAY_S + int(rng.integers(0, _DAY_S))
        end = begin + int(rng.integers(2 * 3600, 16 * 3600))
        stored = (measured >= begin) & (measured < end)
        received[stored] = end + int(rng.integers(30, 601))
    order = np.lexsort((measure, measured, received))
    return PatientSeries(
        measure=measure[order],
        device=device[order],
        measured_s=measured[order],
        received_s=received[order],
        value=value[order],
        value2=value2[order],
    )
