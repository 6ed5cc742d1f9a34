"""v2 confounders: what looks like a deterioration, is as large as one, and is not.

Simulated patients only. Times are days since the cohort's start. Confounders
are placed independently of the patient's deteriorations, so they overlap
them (a decompensation may start during a holiday gain, on a new scale, or in
clothes); on top of that, 20 % of decompensations get a holiday gain that began
0-10 days before their onset, and in all about half of the decompensations
start while a weight confounder is changing the weight. Rates per patient-year
of follow-up; for CHF patients the weight confounders add up to about 8 a year
(clothed runs included), about 4 without them.

Weight (patients with a scale):

- **Holiday gain** (``holiday_gain``): 1 trip a year at any time, and a
  Christmas gain for half the patients whose window holds one (starting 18-25
  December): +1-3 kg over 5-14 days, then a share ``kept_fraction`` (0-1) stays
  and the rest is lost over 30-150 days. Helander, Wansink and Chieh 2016, N
  Engl J Med 375:1200-1202 (wireless scales): +0.4 % (US), +0.6 % (Germany)
  within 10 days of Christmas, half of it still there about five months later;
  Yanovski et al. 2000, N Engl J Med 342:861-867: holiday gain 0.37 +/- 1.52 kg
  (mean +/- SD), so 1-3 kg is an individual's upper tail, chosen to stress the
  detectors (assumption), as is the trip rate.
- **Seasonal gain** (``seasonal_gain``): the rising half of each patient's
  yearly swing (mid-July to mid-January), of amplitude ``Traits.season_kg``
  (and ``season_systolic`` for blood pressure); see :mod:`simulators.truth.traits`.
- **Appetite returning after discharge** (``post_discharge_regain``): at
  enrolment (a discharge) and after every hospital stay, for half the patients:
  +1-4 kg over 4-10 weeks that then stays. Blair et al. 2009, Eur Heart J
  30:1666-1673 (EVEREST): patients not readmitted had regained 0.74, 0.90 and
  1.04 kg on average 60, 120 and 180 days after discharge; Ambrosy et al. 2017
  (ASCEND-HF): a median of 2.3 kg lost in hospital. Sizes beyond the mean and
  the share are assumptions.
- **Diuretic dose change** (``diuretic_change``, CHF): 1.5 a year, a step of
  0.5-2 kg within 1-4 days that stays, up (dose lowered, 60 %) or down
  (assumptions).
- **Clothed or after-meal weighings** (``clothed_weighing``): runs of 1-6
  mornings (half of them one morning) of +0.5-1.5 kg, 1-12 runs a year per
  patient. Whigham et al. 2013, Int J Obes 37:160-161: clothing weighs 1.2 +/-
  0.3 kg (men) and 0.8 +/- 0.3 kg (women), a person's lightest and heaviest
  0.5-1.5 kg. Run counts and lengths are assumptions.
- **Scale replaced** (``scale_replaced``): 0.15 a year, by a scale with its own
  serial and a bias of +/-0.3-1.5 kg relative to the old one (same unit in 85 %).
  Yorkin et al. 2013, BMC Public Health 13:1194: dial bathroom scales showed a
  mean absolute 0.95 kg before any load. The rate is an assumption.

Blood pressure and SpO2:

- **Stressful week** (``stress_week``): 2 a year, systolic +5-15 mmHg and heart
  rate +0-5 bpm for 4-10 days. Clays et al. 2007, J Occup Environ Med
  49:360-367: high job strain, +5.9/3.0 mmHg ambulatory at work; the upper
  sizes and the rate are assumptions.
- **Poor perfusion** (``poor_perfusion``): 4 a year (more in winter: x(1 +
  0.5 cos)/1.5), 1-3 days on which 30-100 % of SpO2 readings are 2-7 points low
  (cold fingers; pulse oximeters read falsely low when the finger is poorly
  perfused, Open Oximetry FAQ, UCSF Hypoxia Lab). Rate and sizes are assumptions.
- White-coat-like morning spikes and second weighings are single readings,
  drawn with the readings (:mod:`simulators.truth.readings`).

>>> import numpy as np
>>> from datetime import UTC, datetime
>>> from simulators.truth.traits import draw_traits
>>> from simulators.models import Baseline, Pathway
>>> rng = np.random.default_rng(2)
>>> t = draw_traits(rng, Pathway.CHF, Baseline(80.0, 130.0, 80.0, 95.0, 70.0))
>>> spells = draw_confounders(rng, pathway=Pathway.CHF, scale_slot=0, n_devices=3,
...     has_oximeter=True, traits=t, primary=(), follow_end=365.0,
...     start=datetime(2026, 1, 1, tzinfo=UTC))
>>> TruthKind.SEASONAL_GAIN in {s.kind for s in spells}
True
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from hub.domain import Measure
from simulators.gt_models import TruthKind
from simulators.models import Pathway
from simulators.truth.deteriorations import YEAR, winter
from simulators.truth.models import Spell, Traits, r4

HOLIDAY_RATE = 1.0
CHRISTMAS_SHARE = 0.5
OVERLAP_SHARE = 0.2
REGAIN_SHARE = 0.5
DIURETIC_RATE = 1.5
SCALE_REPLACEMENT_RATE = 0.15
STRESS_WEEK_RATE = 2.0
PERFUSION_RATE = 4.0
_W = Measure.BODY_WEIGHT


def _poisson_times(rng: np.random.Generator, rate: float, until: float) -> list[float]:
    n = int(rng.poisson(rate * max(until, 0.0) / YEAR))
    return sorted(float(t) for t in rng.uniform(0.0, until, n))


def _holiday(rng: np.random.Generator, onset: float, variant: str) -> Spell:
    rise = r4(rng.uniform(5.0, 14.0))
    params = {
        "gain_kg": r4(rng.uniform(1.0, 3.0)),
        "rise_days": rise,
        "kept_fraction": r4(rng.uniform(0.0, 1.0)),
        "loss_days": r4(rng.uniform(30.0, 150.0)),
    }
    onset = r4(onset)
    return Spell(
        TruthKind.HOLIDAY_GAIN, onset, onset + rise, params=params, variant=variant, measure=_W
    )


def _christmases(start: datetime, until: float) -> list[float]:
    out = []
    for year in range(start.year - 1, start.year + int(until // 365) + 2):
        t = (datetime(year, 12, 18, tzinfo=start.tzinfo) - start) / timedelta(days=1)
        if 0.0 <= t < until - 7.0:
            out.append(t)
    return out


def _seasons(traits: Traits, start: datetime, until: float) -> list[Spell]:
    doy = float(start.timetuple().tm_yday - 1)
    peak = 15.0 - doy
    while peak - YEAR / 2 > 0.0:
        peak -= YEAR
    params = {
        "amplitude_kg": r4(traits.season_kg),
        "systolic_amplitude": r4(traits.season_systolic),
    }
    out = []
    while peak - YEAR / 2 < until:
        onset, event = max(peak - YEAR / 2, 0.0), min(peak, until)
        if event > onset + 1.0:
            out.append(
                Spell(
                    TruthKind.SEASONAL_GAIN, r4(onset), r4(event), params=params, variant="winter"
                )
            )
        peak += YEAR
    return out


def _regain(rng: np.random.Generator, onset: float) -> Spell:
    days = r4(rng.uniform(28.0, 70.0))
    params = {"gain_kg": r4(rng.uniform(1.0, 4.0)), "days": days}
    return Spell(TruthKind.POST_DISCHARGE_REGAIN, onset, onset + days, params=params, measure=_W)


def _diuretic(rng: np.random.Generator, onset: float) -> Spell:
    up = rng.random() < 0.6
    size = float(rng.uniform(0.5, 2.0))
    days = r4(rng.uniform(1.0, 4.0))
    params = {"step_kg": r4(size if up else -size), "days": days}
    variant = "dose_lowered" if up else "dose_raised"
    return Spell(
        TruthKind.DIURETIC_CHANGE, onset, onset + days, params=params, variant=variant, measure=_W
    )


def _clothed(rng: np.random.Generator, traits: Traits, until: float) -> list[Spell]:
    out = []
    for t in _poisson_times(rng, traits.clothed_runs_per_year, until):
        day = float(math.floor(t))
        length = float(min(int(rng.geometric(0.5)), 6))
        params = {"delta_kg": r4(rng.uniform(0.5, 1.5)), "days": length}
        variant = "clothes" if rng.random() < 0.6 else "after_meal"
        out.append(
            Spell(
                TruthKind.CLOTHED_WEIGHING,
                day,
                day + length,
                params=params,
                variant=variant,
                measure=_W,
            )
        )
    return out


def _replacement(
    rng: np.random.Generator, traits: Traits, scale_slot: int, new_slot: int, until: float
) -> Spell | None:
    years = until / YEAR
    if until < 30.0 or rng.random() >= 1.0 - math.exp(-SCALE_REPLACEMENT_RATE * years):
        return None
    day = r4(rng.uniform(14.0, until - 7.0))
    offset = float(rng.uniform(0.3, 1.5)) * (1.0 if rng.random() < 0.5 else -1.0)
    lb = traits.lb_scale if rng.random() < 0.85 else not traits.lb_scale
    params = {
        "offset_kg": r4(offset),
        "device_slot": float(new_slot),
        "replaces_slot": float(scale_slot),
        "unit_lb": 1.0 if lb else 0.0,
    }
    return Spell(
        TruthKind.SCALE_REPLACED, day, day, params=params, measure=_W, device_slot=new_slot
    )


def _perfusion(rng: np.random.Generator, start: datetime, until: float) -> list[Spell]:
    doy = float(start.timetuple().tm_yday - 1)
    out = []
    for t in _poisson_times(rng, PERFUSION_RATE * 1.5, until):
        keep = float(rng.random()) < (1.0 + 0.5 * float(winter(doy, t))) / 1.5
        days = float(rng.integers(1, 4))
        params = {
            "days": days,
            "share": r4(rng.uniform(0.3, 1.0)),
            "max_drop": r4(rng.uniform(3.0, 7.0)),
        }
        if keep:
            day = float(math.floor(t))
            out.append(
                Spell(
                    TruthKind.POOR_PERFUSION,
                    day,
                    day + days,
                    params=params,
                    measure=Measure.OXYGEN_SATURATION,
                )
            )
    return out


def _stress(rng: np.random.Generator, until: float) -> list[Spell]:
    out = []
    for t in _poisson_times(rng, STRESS_WEEK_RATE, until):
        days = r4(rng.uniform(4.0, 10.0))
        params = {
            "days": days,
            "systolic_rise": r4(rng.uniform(5.0, 15.0)),
            "hr_rise": r4(rng.uniform(0.0, 5.0)),
        }
        onset = r4(t)
        out.append(
            Spell(
                TruthKind.STRESS_WEEK,
                onset,
                onset + days,
                params=params,
                measure=Measure.BLOOD_PRESSURE,
            )
        )
    return out


def draw_confounders(
    rng: np.random.Generator,
    *,
    pathway: Pathway,
    scale_slot: int,
    n_devices: int,
    has_oximeter: bool,
    traits: Traits,
    primary: tuple[Spell, ...],
    follow_end: float,
    start: datetime,
) -> list[Spell]:
    """The patient's confounders over ``[0, follow_end)``, in onset order.

    ``scale_slot`` is the scale's device slot (-1: no scale); a replacement
    scale takes slot ``n_devices``. Every group is drawn whatever the
    patient's devices, so one kind never shifts another's random stream.
    """
    trips = _poisson_times(rng, HOLIDAY_RATE, follow_end)
    weight: list[Spell] = [_holiday(rng, t, "trip") for t in trips]
    for s in primary:
        if s.kind is TruthKind.DECOMPENSATION and rng.random() < OVERLAP_SHARE:
            weight.append(_holiday(rng, max(s.onset - float(rng.uniform(0.0, 10.0)), 0.0), "trip"))
    homes = [0.0, *(s.returns for s in primary if s.returns is not None)]
    weight += [_regain(rng, r4(t)) for t in homes if rng.random() < REGAIN_SHARE and t < follow_end]
    diuretic = [_diuretic(rng, r4(t)) for t in _poisson_times(rng, DIURETIC_RATE, follow_end)]
    if pathway is Pathway.CHF:
        weight += diuretic
    weight += _clothed(rng, traits, follow_end)
    replaced = _replacement(rng, traits, scale_slot, n_devices, follow_end)
    if replaced is not None:
        weight.append(replaced)
    out = _seasons(traits, start, follow_end)
    out += _stress(rng, follow_end)
    perfusion = _perfusion(rng, start, follow_end)
    # Last, as the only draws whose number depends on the calendar: the rest of
    # a patient's events are the same whatever the start date.
    for t in _christmases(start, follow_end):
        if rng.random() < CHRISTMAS_SHARE:
            weight.append(_holiday(rng, t + float(rng.uniform(0.0, 7.0)), "christmas"))
    if scale_slot >= 0:
        out += weight
    if has_oximeter:
        out += perfusion
    out.sort(key=lambda s: (s.onset, s.kind.value))
    return out
