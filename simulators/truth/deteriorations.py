"""v2 deteriorations of varied shape, size and speed, their rates, gaps and drop-outs.

Simulated patients only. Times are days since the cohort's start. A patient's
deteriorations and non-adherence gaps never overlap each other (a refractory
period follows each, as in v1); confounders (:mod:`simulators.truth.confounders`)
overlap them freely.

**Decompensation** (CHF). Weight starts rising 3-30 days before the admission
(30 % fast, 3-7 d; 45 % 7-16 d; 25 % slow, 16-30 d) and gains 1-5 kg
(log-uniform), except 15 % that gain little or nothing (0-0.6 kg). Shapes:
steady (35 %), accelerating in the last days (40 %; level = progress^2-4) and
stepwise (25 %; 2-4 steps of a day or less). Sources: Chaudhry et al. 2007,
Circulation 116:1549-1554 (gain begins about 30 days before admission and
diverges from controls in the last week; final-week gains of 2-5, 5-10 and
>10 lb, 0.9-2.3, 2.3-4.5 and >4.5 kg, carry odds ratios 2.77, 4.46 and 7.65);
Zhang et al. 2009, Eur J Heart Fail 11:420-427 (TEN-HMS: 0.9 +/- 2.1 kg in the
14 days before a worsening-heart-failure admission; "many episodes ... do not
appear to be associated with weight gain"); Lewin et al. 2005, Eur J Heart
Fail (weight and BNP changes did not discriminate deterioration, AUC
0.64-0.66); Gyllensten et al. 2016, JMIR Med Inform 4:e3 (weight rule of thumb
20 %, moving averages 33 % sensitivity). So a 2 kg/72 h rule should catch a
minority of v2's decompensations, not 70 %. The split between shapes and
speeds is an assumption. Heart rate rises 5-20 bpm in 50 %, systolic pressure
changes by -15..+20 mmHg in 40 %, SpO2 falls 1-4 points in 35 % (assumptions;
0 in ``params`` means absent). In 35 % the patient stops measuring in the last
1-4 days, keeping 0-30 % of readings (``silent_days``, ``silent_keep``; an
assumption; Haynes et al. 2020, JAMA Netw Open 3:e2010174, BEAT-HF: lower
weighing adherence in a week went with a higher risk of hospitalisation or
death in the next). Hospital stay 3-10 days; weight at home again -2.5..+0.5 kg
from before the onset (Ambrosy et al. 2017, JACC Heart Fail 5(1), ASCEND-HF:
median -2.3 kg by discharge).

**COPD exacerbation**. Develops over 2-14 days, gradual (45 %), abrupt in the
last 1-3 days (35 %) or after a cold-like prodrome (20 %; Seemungal et al.
2000, Am J Respir Crit Care Med 161:1608-1613: colds and sore throat precede
onset). SpO2 falls by a gamma-distributed 0.2-7 points (mean 2) and heart rate
rises by 1-25 bpm (mean 9) in 80 % (Burton et al. 2015, J Telemed Telecare
21:29-36: at onset pulse 87 -> 94/min, SpO2 93.6 -> 92.4 %; Al Rajeh et al.
2020, JMIR Mhealth Uhealth 8:e17597: overnight oximetry changed from 7 days
before treatment). Recovery takes a median of 7 days (log-normal, 2-35;
Seemungal et al. 2000: median 7, IQR 4-14, only 75 % of peak flows back at 35
days). 35 % are admitted for 3-10 days (assumption for a post-discharge
programme; Donaldson et al. 2012, Chest: 4.6-8.4 % in an outpatient cohort),
and 30 % of those go silent for 1-3 days before.

**Hypertensive episode**. +20-70 mmHg systolic, abrupt (within 6-24 h, 40 %)
or gradual (2-10 days), held 0.5-3 days, resolving over 1-4 (assumptions).

**Rates** per patient-year: decompensation 0.8 (CHF), COPD exacerbation 1.2
(COPD), hypertensive episode 0.5 (HTN) or 0.1, non-adherence gap 1.2, drop-out
hazard 0.15 (as v1). Deteriorations are twice as likely in the 30 days after
enrolment (at discharge) and after every return from hospital (Desai and
Stevenson 2012, Circulation 126:501-506: readmission risk peaks early after
discharge; Caughey et al. 2018, Am J Cardiol 122:108-114, ARIC: 88-115
heart-failure readmissions per 100 person-years, highest in the first 30 days;
Fudim et al. 2018, Eur J Heart Fail, ASCEND-HF: 11 % readmitted within 30 days,
46 % of them for heart failure). COPD exacerbations follow the seasons:
x(1 + 0.25 cos), peaking mid-January, so November-February has about 1.5x the
May-August rate (Donaldson et al. 2012: 1,052 cold-season vs 676 warm-season
exacerbations). A candidate that falls in a refractory period is dropped, so
the nominal rates are upper bounds; the ground truth is what counts.

>>> s = decompensation(np.random.default_rng(4), 10.0)
>>> s.variant in SHAPES and 3.0 <= s.params["days"] <= 30.0
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from simulators.gt_models import TruthKind
from simulators.models import Pathway
from simulators.truth.models import Spell, r4

#: Nominal rates per patient-year.
RATES: Mapping[TruthKind, Mapping[Pathway, float]] = {
    TruthKind.DECOMPENSATION: {Pathway.CHF: 0.8},
    TruthKind.COPD_EXACERBATION: {Pathway.COPD: 1.2},
    TruthKind.HYPERTENSIVE_EPISODE: {
        Pathway.HTN: 0.5,
        Pathway.CHF: 0.1,
        Pathway.COPD: 0.1,
        Pathway.DEFAULT: 0.1,
    },
    TruthKind.NON_ADHERENCE: dict.fromkeys(Pathway, 1.2),
}
DROPOUT_HAZARD = 0.15
EARLY_DAYS, EARLY_FACTOR = 30.0, 2.0
COPD_WINTER_SWING = 0.25
#: Decompensation shapes and their shares.
SHAPES = ("steady", "accelerating", "stepwise")
SHAPE_SHARES = (0.35, 0.40, 0.25)
LITTLE_GAIN_SHARE = 0.15
SILENT_SHARE = 0.35
#: How long one step of a stepwise decompensation takes, in days.
STEP_DAYS = 0.75
YEAR = 365.25
_WARMUP = 3.0


def winter(day_of_year: float, t: np.ndarray | float) -> np.ndarray:
    """cos of the season at ``t`` days after day of year ``day_of_year``: 1 mid-January."""
    return np.cos(2.0 * math.pi * (day_of_year + np.asarray(t, dtype=np.float64) - 15.0) / YEAR)


def decompensation(rng: np.random.Generator, onset: float) -> Spell:
    u = float(rng.random())
    lo, hi = (3.0, 7.0) if u < 0.30 else (7.0, 16.0) if u < 0.75 else (16.0, 30.0)
    days = r4(rng.uniform(lo, hi))
    little = rng.random() < LITTLE_GAIN_SHARE
    gain = r4(rng.uniform(0.0, 0.6) if little else math.exp(rng.uniform(0.0, math.log(5.0))))
    variant = SHAPES[int(rng.choice(len(SHAPES), p=SHAPE_SHARES))]
    params: dict[str, float] = {"days": days, "gain_kg": gain, "rate_kg_per_day": r4(gain / days)}
    if variant == "accelerating":
        params["exponent"] = r4(rng.uniform(2.0, 4.0))
    elif variant == "stepwise":
        n = int(rng.integers(2, 5))
        last = 1.0 - STEP_DAYS / days
        steps = np.sort(rng.uniform(0.05, last, n))
        params["steps"] = float(n)
        params.update({f"step{k + 1}": r4(f) for k, f in enumerate(steps)})
    params["hr_rise"] = r4(rng.uniform(5.0, 20.0)) if rng.random() < 0.5 else 0.0
    params["systolic_change"] = r4(rng.uniform(-15.0, 20.0)) if rng.random() < 0.4 else 0.0
    params["spo2_drop"] = r4(rng.uniform(1.0, 4.0)) if rng.random() < 0.35 else 0.0
    absence = r4(rng.uniform(3.0, 10.0))
    params["absence_days"] = absence
    params["new_dry_weight_delta_kg"] = r4(rng.uniform(-2.5, 0.5))
    silent = rng.random() < SILENT_SHARE
    params["silent_days"] = min(float(rng.integers(1, 5)), r4(0.8 * days)) if silent else 0.0
    params["silent_keep"] = r4(rng.uniform(0.0, 0.3)) if silent else 1.0
    event = onset + days
    return Spell(
        TruthKind.DECOMPENSATION,
        onset,
        event,
        returns=event + absence,
        busy_until=event + absence + 14.0,
        params=params,
        variant=variant,
    )


def exacerbation(rng: np.random.Generator, onset: float) -> Spell:
    days = r4(rng.uniform(2.0, 14.0))
    variant = ("gradual", "abrupt", "prodrome")[int(rng.choice(3, p=(0.45, 0.35, 0.20)))]
    params: dict[str, float] = {"days": days}
    if variant != "gradual":
        params["abrupt_days"] = r4(min(rng.uniform(1.0, 3.0), days))
    params["spo2_drop"] = r4(np.clip(rng.gamma(2.0, 1.0), 0.2, 7.0))
    params["hr_rise"] = r4(np.clip(rng.gamma(2.0, 4.5), 1.0, 25.0)) if rng.random() < 0.8 else 0.0
    admitted = rng.random() < 0.35
    absence = r4(rng.uniform(3.0, 10.0)) if admitted else 0.0
    recovery = float(np.clip(rng.lognormal(math.log(7.0), 0.7), 2.0, 35.0))
    params["absence_days"] = absence
    params["recovery_days"] = r4(absence + recovery)
    silent = admitted and rng.random() < 0.30
    params["silent_days"] = min(float(rng.integers(1, 4)), r4(0.8 * days)) if silent else 0.0
    params["silent_keep"] = r4(rng.uniform(0.0, 0.3)) if silent else 1.0
    event = onset + days
    return Spell(
        TruthKind.COPD_EXACERBATION,
        onset,
        event,
        returns=event + absence if admitted else None,
        busy_until=event + params["recovery_days"] + 14.0,
        params=params,
        variant=variant,
    )


def hypertensive(rng: np.random.Generator, onset: float) -> Spell:
    abrupt = rng.random() < 0.40
    days = r4(rng.uniform(0.25, 1.0) if abrupt else rng.uniform(2.0, 10.0))
    params = {
        "days": days,
        "systolic_rise": r4(rng.uniform(20.0, 70.0)),
        "hr_rise": r4(rng.uniform(0.0, 8.0)),
        "hold_days": r4(rng.uniform(0.5, 3.0)),
        "resolve_days": r4(rng.uniform(1.0, 4.0)),
    }
    event = onset + days
    busy = event + params["hold_days"] + params["resolve_days"] + 7.0
    variant = "abrupt" if abrupt else "gradual"
    return Spell(
        TruthKind.HYPERTENSIVE_EPISODE,
        onset,
        event,
        busy_until=busy,
        params=params,
        variant=variant,
    )


def gap(rng: np.random.Generator, onset: float, n_devices: int) -> Spell:
    """A lapse of 4-21 days on one device, or (60 %) on all of them (as v1)."""
    days = float(rng.integers(4, 22))
    slot = -1 if rng.random() < 0.6 or n_devices == 1 else int(rng.integers(0, n_devices))
    params = {"days": days, "all_devices": 1.0 if slot < 0 else 0.0}
    if slot >= 0:
        params["device_slot"] = float(slot)
    return Spell(
        TruthKind.NON_ADHERENCE,
        onset,
        onset + days,
        busy_until=onset + days + 3.0,
        params=params,
        device_slot=slot,
    )


_MAKERS: Mapping[TruthKind, Callable[[np.random.Generator, float], Spell]] = {
    TruthKind.DECOMPENSATION: decompensation,
    TruthKind.COPD_EXACERBATION: exacerbation,
    TruthKind.HYPERTENSIVE_EPISODE: hypertensive,
}


def draw_primaries(
    rng: np.random.Generator,
    pathway: Pathway,
    *,
    days: float,
    n_devices: int,
    day_of_year: float,
) -> tuple[tuple[Spell, ...], float, Spell | None]:
    """The patient's deteriorations and gaps over ``[0, days)``, follow-up end, drop-out.

    Candidates are drawn at each kind's highest rate and thinned to the rate at
    their time (early after discharge, season), in time order.
    """
    drop = float(rng.exponential(YEAR / DROPOUT_HAZARD))
    follow_end = min(days, drop)
    n_days = math.ceil(days)
    candidates: list[tuple[float, TruthKind, float]] = []
    for kind, by_pathway in RATES.items():
        rate = by_pathway.get(pathway, 0.0)
        if rate <= 0.0:
            continue
        top = 1.0
        if kind is not TruthKind.NON_ADHERENCE:
            top = EARLY_FACTOR * (1.0 + COPD_WINTER_SWING * (kind is TruthKind.COPD_EXACERBATION))
        hits = np.flatnonzero(rng.random(n_days) < rate * top / YEAR)
        onsets = hits + rng.uniform(0.0, 1.0, hits.size)
        candidates.extend((float(t), kind, top) for t in onsets)
    candidates.sort(key=lambda c: (c[0], c[1].value))
    primary: list[Spell] = []
    free_from, home = _WARMUP, 0.0
    for onset, kind, top in candidates:
        keep = float(rng.random())
        if onset < free_from:
            continue
        if kind is TruthKind.NON_ADHERENCE:
            spell = gap(rng, onset, n_devices)
        else:
            factor = EARLY_FACTOR if onset - home < EARLY_DAYS else 1.0
            if kind is TruthKind.COPD_EXACERBATION:
                factor *= 1.0 + COPD_WINTER_SWING * float(winter(day_of_year, onset))
            if keep >= factor / top:
                continue
            spell = _MAKERS[kind](rng, onset)
        end = spell.returns if spell.returns is not None else spell.event
        if end >= follow_end - 1.0:
            continue
        primary.append(spell)
        free_from = spell.busy_until
        if spell.returns is not None:
            home = spell.returns
    dropout = None
    if drop < days:
        dropout = Spell(TruthKind.DROPOUT, drop, days, busy_until=days)
    return tuple(primary), follow_end, dropout
