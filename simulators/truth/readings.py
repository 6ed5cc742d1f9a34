"""Every reading of one v2 patient over a long window, vectorised with numpy.

Simulated patients only. A vital is the patient's level plus a seasonal swing,
a weekly pattern (weight up on Sunday and Monday mornings, blood pressure up on
Mondays), autocorrelated day-to-day variation, the events' offsets
(:mod:`simulators.truth.effects`) and a scatter per reading, each of the
patient's own size (:mod:`simulators.truth.traits`). On top of that, for
single readings or one device:

- clothed or after-meal weighings add their ``delta_kg`` on the days of a run;
- some patients weigh again 4-12 h after the morning, 0.5-1.5 kg heavier
  (food, drink and clothes: Whigham et al. 2013 for clothes; the total is an
  assumption), each recorded as a ``second_weighing``;
- a replaced scale: from its day, weighings come from the new device, with its
  bias, in its unit;
- a scale in pounds reports 0.2 lb steps; the reading is that value converted
  exactly as the hub converts it (``value_lb * 0.45359237``, :mod:`ingest.units`);
  a scale in kg reports 0.1 kg steps;
- white-coat-like morning spikes (+15-35 mmHg systolic, ``morning_bp_spike``;
  Murakami et al. 2004: morning surges of 14-20 mmHg), poor-perfusion SpO2 dips,
  and outliers at v1's rates times the patient's ``outlier_factor``.

Days are missed at the patient's rate (more often at weekends, when the
morning routine is also later), single measurements at 3 %; nothing is
measured in hospital, in a non-adherence gap (for the device it silences, a
scale's replacement included) or after a drop-out, and only a share
``silent_keep`` in the ``silent_days`` before an admission. Late deliveries
(a gateway offline for hours, then sending what it stored) come from
:func:`simulators.gt_signals.arrivals`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hub.domain import DeviceKind, Measure
from ingest.units import MASS_TO_KG
from simulators.gt_models import TruthKind
from simulators.gt_signals import (
    I8,
    MEASURES,
    OUTLIER_RATE,
    SLOT_MISS,
    Calendar,
    PatientSeries,
    ar1,
    arrivals,
    chunk,
)
from simulators.models import Baseline, Routine
from simulators.truth.deteriorations import winter
from simulators.truth.effects import offsets
from simulators.truth.models import F64, B, Plan, Traits, r4
from simulators.truth.traits import WEEKLY_PROFILE

_W, _BP = MEASURES.index(Measure.BODY_WEIGHT), MEASURES.index(Measure.BLOOD_PRESSURE)
_SPO2, _HR = MEASURES.index(Measure.OXYGEN_SATURATION), MEASURES.index(Measure.HEART_RATE)
_DAY_S = 86_400
#: The hub's factor from lb to kg (ingest.units), so readings equal what it stores.
LB_KG = MASS_TO_KG["lb"]
Chunk = tuple[I8, I8, F64, F64, F64]


@dataclass(frozen=True, slots=True)
class Single:
    """One odd reading: an outlier, a second weighing or a morning spike."""

    kind: TruthKind
    measured_s: int
    measure: Measure
    params: dict[str, float] = field(default_factory=dict)


def to_scale(kg: F64, lb: B) -> F64:
    """What a scale shows, in kg: 0.1 kg steps, or 0.2 lb steps converted as the hub does.

    >>> kg = to_scale(np.array([70.04, 70.04]), np.array([False, True]))
    >>> kg.tolist(), round(float(kg[1]) / 0.45359237, 9)
    ([70.0, 70.034661928], 154.4)
    """
    steps = np.rint(kg / LB_KG / 0.2)
    pounds = (2.0 * steps) / 10.0
    return np.where(lb, pounds * LB_KG, np.round(kg, 1))


class _Day:
    """The per-day series of one patient (calendar, adherence, day-to-day variation)."""

    def __init__(
        self,
        rng: np.random.Generator,
        traits: Traits,
        routine: Routine,
        n: int,
        calendar: Calendar,
    ) -> None:
        self.n = n
        self.day = np.arange(n)
        self.weekday = (calendar.weekday + self.day) % 7
        weekend = self.weekday >= 5
        miss = traits.miss_day_rate * np.where(weekend, traits.weekend_miss_factor, 1.0)
        self.missed = rng.random(n) < miss
        self.wake = (
            routine.wake_minute
            + rng.integers(-25, 26, n)
            + np.where(weekend, round(traits.weekend_late_min), 0)
        )
        self.ar_w = ar1(rng, n, traits.weight_phi, traits.weight_day_sd)
        self.ar_sys = ar1(rng, n, 0.5, traits.systolic_day_sd)
        self.ar_dia = ar1(rng, n, 0.5, traits.diastolic_day_sd)
        self.ar_hr = ar1(rng, n, 0.5, traits.hr_day_sd)
        self.ar_spo2 = ar1(rng, n, 0.6, traits.spo2_day_sd)
        profile = np.array(WEEKLY_PROFILE) - float(np.mean(WEEKLY_PROFILE))
        self.weekly = profile * traits.weekly_kg


def _times(rng: np.random.Generator, days: _Day, minute: F64) -> F64:
    return np.asarray(days.day + (minute * 60.0 + rng.integers(0, 60, days.n)) / _DAY_S)


def _kept(rng: np.random.Generator, plan: Plan, t: F64, slot: int, days: float) -> B:
    """Which measurements at ``t`` of the device in base ``slot`` are made."""
    keep: B = ~plan.absent(t) & (t < days)
    quiet = rng.random(t.size)
    for s in plan.primary:
        if s.kind is TruthKind.NON_ADHERENCE and s.device_slot in (-1, slot):
            keep &= (t < s.onset) | (t >= s.event)
        silent = s.params.get("silent_days", 0.0)
        if silent > 0.0:
            inside = (t >= s.event - silent) & (t < s.event)
            keep &= ~inside | (quiet < s.params["silent_keep"])
    return keep


def _outliers(
    rng: np.random.Generator,
    values: F64,
    t: F64,
    code: int,
    factor: float,
    found: list[Single],
    delta: Callable[[int], F64],
) -> F64:
    hit = np.flatnonzero(rng.random(values.size) < OUTLIER_RATE[code] * factor)
    if hit.size == 0:
        return values
    deltas = np.asarray(delta(hit.size), dtype=np.float64)
    out = values.copy()
    out[hit] += deltas
    found.extend(
        Single(TruthKind.OUTLIER, round(float(t[i]) * _DAY_S), MEASURES[code], {"delta": r4(x)})
        for i, x in zip(hit, deltas, strict=True)
    )
    return out


def _sign(rng: np.random.Generator, k: int) -> F64:
    return np.where(rng.random(k) < 0.8, 1.0, -1.0)


class _Simulation:
    def __init__(
        self,
        rng: np.random.Generator,
        *,
        baseline: Baseline,
        routine: Routine,
        traits: Traits,
        plan: Plan,
        days: float,
        calendar: Calendar,
    ) -> None:
        self.rng, self.baseline, self.routine = rng, baseline, routine
        self.traits, self.plan, self.days = traits, plan, days
        self.doy = calendar.day_of_year
        self.d = _Day(rng, traits, routine, math.ceil(days), calendar)
        self.chunks: list[Chunk] = []
        self.singles: list[Single] = []

    def _weight_level(self, t: F64) -> F64:
        d = t.astype(np.int64)
        w = self.baseline.weight_kg + self.traits.season_kg * winter(self.doy, t)
        w = w + self.d.weekly[self.d.weekday[d]] + self.d.ar_w[d] + offsets(self.plan, t).weight
        for s in self.plan.of_kind(TruthKind.CLOTHED_WEIGHING):
            w = w + s.params["delta_kg"] * ((t >= s.onset) & (t < s.event))
        return np.asarray(w, dtype=np.float64)

    def scale(self, slot: int, units: tuple[str, ...]) -> None:
        rng, d, tr = self.rng, self.d, self.traits
        morning = _times(rng, d, d.wake.astype(np.float64))
        morning = morning[~d.missed & (rng.random(d.n) >= SLOT_MISS)]
        again = rng.random(d.n) < tr.second_weighing_rate
        later = _times(rng, d, (d.wake + rng.integers(240, 721, d.n)).astype(np.float64))[again]
        t = np.concatenate([morning, later])
        keep = _kept(rng, self.plan, t, slot, self.days)
        second = np.arange(t.size) >= morning.size
        diurnal = rng.uniform(0.5, 1.5, t.size)
        noise = rng.normal(0.0, tr.weight_noise_sd, t.size)
        t, second, diurnal, noise = t[keep], second[keep], diurnal[keep], noise[keep]
        w = self._weight_level(t) + noise + diurnal * second
        self.singles.extend(
            Single(
                TruthKind.SECOND_WEIGHING,
                round(float(t[i]) * _DAY_S),
                Measure.BODY_WEIGHT,
                {"delta_kg": r4(diurnal[i])},
            )
            for i in np.flatnonzero(second)
        )
        w = _outliers(
            rng,
            w,
            t,
            _W,
            tr.outlier_factor,
            self.singles,
            lambda k: _sign(rng, k) * rng.uniform(1.2, 3.0, k),
        )
        dev = np.full(t.size, slot)
        for s in self.plan.of_kind(TruthKind.SCALE_REPLACED):
            new = t >= s.onset
            dev = np.where(new, s.device_slot, dev)
            w = w + s.params["offset_kg"] * new
        lb = np.array([u == "lb" for u in units])[dev]
        w = to_scale(w, lb)
        for slot_used in np.unique(dev).tolist():
            mine = dev == slot_used
            self.chunks.append(chunk(_W, slot_used, t[mine], w[mine], np.full(mine.sum(), np.nan)))

    def _hr(self, t: F64, dev: int) -> None:
        rng, tr = self.rng, self.traits
        d = t.astype(np.int64)
        hr = self.baseline.resting_hr + self.d.ar_hr[d] + offsets(self.plan, t).hr
        hr = hr + rng.normal(0.0, tr.hr_noise_sd, t.size)
        hr = _outliers(
            rng, hr, t, _HR, tr.outlier_factor, self.singles, lambda k: rng.uniform(25.0, 45.0, k)
        )
        self.chunks.append(chunk(_HR, dev, t, np.round(hr), None))

    def cuff(self, slot: int) -> None:
        rng, d, tr, base = self.rng, self.d, self.traits, self.baseline
        evening_min = self.routine.evening_minute + rng.integers(-40, 41, d.n)
        for evening, minute in (
            (False, d.wake + rng.integers(5, 26, d.n)),
            (True, evening_min),
        ):
            t = _times(rng, d, minute.astype(np.float64))
            t = t[~d.missed & (rng.random(d.n) >= SLOT_MISS)]
            t = t[_kept(rng, self.plan, t, slot, self.days)]
            day = t.astype(np.int64)
            shift = tr.season_systolic * winter(self.doy, t) + self.d.ar_sys[day]
            shift = shift + tr.monday_systolic * (d.weekday[day] == 0)
            shift = shift + offsets(self.plan, t).systolic
            sys_ = base.systolic + shift + rng.normal(0.0, tr.systolic_noise_sd, t.size)
            sys_ = sys_ + (3.0 if evening else 0.0)
            spike = (rng.random(t.size) < tr.bp_spike_rate) & (not evening)
            rise = rng.uniform(15.0, 35.0, t.size)
            sys_ = sys_ + rise * spike
            self.singles.extend(
                Single(
                    TruthKind.MORNING_BP_SPIKE,
                    round(float(t[i]) * _DAY_S),
                    Measure.BLOOD_PRESSURE,
                    {"systolic_rise": r4(rise[i])},
                )
                for i in np.flatnonzero(spike)
            )
            sys_ = _outliers(
                rng,
                sys_,
                t,
                _BP,
                tr.outlier_factor,
                self.singles,
                lambda k: rng.uniform(25.0, 45.0, k),
            )
            dia = base.diastolic + 0.5 * shift + self.d.ar_dia[day]
            dia = dia + rng.normal(0.0, tr.diastolic_noise_sd, t.size)
            dia = np.minimum(dia + 0.4 * (sys_ - base.systolic - shift), sys_ - 20.0)
            self.chunks.append(chunk(_BP, slot, t, np.round(sys_), np.round(dia)))
            self._hr(t, slot)

    def oximeter(self, slot: int) -> None:
        rng, d, tr = self.rng, self.d, self.traits
        minutes = [d.wake + rng.integers(30, 91, d.n)]
        if self.routine.spo2_twice:
            minutes.append(rng.integers(15 * 60, 18 * 60, d.n))
        for minute in minutes:
            t = _times(rng, d, minute.astype(np.float64))
            t = t[~d.missed & (rng.random(d.n) >= SLOT_MISS)]
            t = t[_kept(rng, self.plan, t, slot, self.days)]
            day = t.astype(np.int64)
            spo2 = self.baseline.spo2 + self.d.ar_spo2[day] + offsets(self.plan, t).spo2
            spo2 = spo2 + rng.normal(0.0, tr.spo2_noise_sd, t.size)
            for s in self.plan.of_kind(TruthKind.POOR_PERFUSION):
                hit = (t >= s.onset) & (t < s.event) & (rng.random(t.size) < s.params["share"])
                spo2 = spo2 - hit * rng.uniform(2.0, s.params["max_drop"], t.size)
            spo2 = _outliers(
                rng,
                spo2,
                t,
                _SPO2,
                tr.outlier_factor,
                self.singles,
                lambda k: -rng.uniform(4.0, 9.0, k),
            )
            self.chunks.append(chunk(_SPO2, slot, t, np.minimum(np.round(spo2), 100.0), None))
            self._hr(t, slot)


def simulate_readings(
    rng: np.random.Generator,
    *,
    baseline: Baseline,
    routine: Routine,
    traits: Traits,
    devices: tuple[DeviceKind, ...],
    units: tuple[str, ...],
    plan: Plan,
    days: float,
    calendar: Calendar,
) -> tuple[PatientSeries, list[Single]]:
    """Every reading of the patient over ``[0, days)``, and its odd single readings.

    ``devices`` are the patient's first devices (a replacement scale's slot
    comes from its ``scale_replaced`` spell); ``units`` gives every slot's unit.
    """
    sim = _Simulation(
        rng,
        baseline=baseline,
        routine=routine,
        traits=traits,
        plan=plan,
        days=days,
        calendar=calendar,
    )
    for slot, kind in enumerate(devices):
        if kind is DeviceKind.SCALE:
            sim.scale(slot, units)
        elif kind is DeviceKind.BP_CUFF:
            sim.cuff(slot)
        elif kind is DeviceKind.PULSE_OXIMETER:
            sim.oximeter(slot)
    series = arrivals(rng, sim.chunks, sim.d.n, outage_rate=traits.outage_rate)
    return series, sorted(sim.singles, key=lambda s: (s.measured_s, s.kind.value))
