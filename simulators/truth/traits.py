"""Each v2 patient's habits and variabilities, drawn over realistic ranges.

Simulated patients only. No two patients are alike: some scales and habits are
noisier, some patients weigh themselves nearly every day and others on half of
them, some weigh again in the evening or in their clothes. The ranges and where
their numbers come from:

- **Weight, day to day**: an AR(1) process per patient, stationary SD
  0.25-0.9 kg (log-uniform), lag-one correlation 0.5-0.85, plus a scatter per
  weighing of 0.1-0.6 kg. Target: in patients who do not decompensate a 14-day
  change has an SD of about 1.1 kg (Zhang et al. 2009, Eur J Heart Fail
  11:420-427, TEN-HMS: -0.2 +/- 1.1 kg before non-heart-failure admissions),
  and the 7-day average of most patients strays more than 2 kg at some point
  (Ledwidge et al. 2013, Eur J Heart Fail, HeartPhone: in three quarters of 87
  patients, while the population average stayed flat). Digital bathroom
  scales are precise, dial ones much less (Yorkin et al. 2013, BMC Public
  Health 13:1194), hence the wide scatter range (its bounds are an assumption).
- **Weekly weight cycle**: heaviest on Sunday and Monday mornings, falling to
  Friday, rising from Saturday (Orsama et al. 2014, Obes Facts 7:36-47, "Weight
  rhythms"); the weekly range is 0-0.7 % of body weight per patient (mean
  0.35 %, the size that study is cited for; we could read only its abstract).
- **Seasons**: weight higher in winter, amplitude 0-0.75 kg (peak to trough
  twice that; Yanovski et al. 2000, N Engl J Med 342:861-867: +0.48 kg from
  September to March, not lost by the next autumn); home systolic pressure
  higher in winter by a winter-summer difference of 3-14 mmHg (J Hypertens
  1996;14:1421-1425: 5.9/2.7 mmHg at home in treated hypertension; Ushigome et
  al. 2019, Diab Vasc Dis Res 17:1479164119883986: 140.3 in January vs 126.3
  mmHg in August with type 2 diabetes).
- **Monday blood pressure**: 0-5 mmHg higher on Mondays (Juhanoja et al. 2016,
  Blood Press Monit 21:63-68, Finn-Home: Monday 1.4 mmHg above the weekend,
  1.8 in the employed; Murakami et al. 2004, Am J Hypertens, 7-day ambulatory
  monitoring: morning systolic 132.5 on Mondays vs 127.3 mmHg).
- **Blood pressure, day to day**: a patient's total within-person SD of home
  systolic pressure ~ N(8.6, 3.1) mmHg, diastolic ~ N(5.8, 2.0) (Kato et al.,
  Am J Hypertens, Ohasama study of 1,215 residents), split between a day-to-day AR(1)
  part and scatter per reading (the split is an assumption).
- **Heart rate and SpO2, day to day**: total SD 3-7 bpm and, in COPD,
  0.7-1.5 % (others 0.5-1.0 %) (Hurst et al. 2010, BMC Pulm Med 10:52: about
  5 bpm and 1 % in stable COPD).
- **Adherence**: the share of missed days is 2-10 % for 60 % of patients,
  10-30 % for 20 % and 25-65 % for 20 %, 1.2-2x more often at weekends. In
  ITEC-CHF 74 % of telemonitored patients weighed on at least 4 days a week
  (Ding et al. 2020, J Med Internet Res 22:e17559), so a quarter did not; the
  mixture itself and the weekend factor are assumptions.
- **Pounds**: 20 % of scales report lb at 0.2 lb resolution (assumption: a
  cohort with some devices made for the US market).
- Assumptions without a published figure: weekend mornings up to 90 min later;
  30 % of patients weigh a second time later on 5-25 % of days; 1-12 runs of
  clothed or after-meal weighings a year; 40 % of patients have white-coat-like
  morning BP spikes on 1-5 % of mornings; outliers 0.5-3x v1's rates; a
  gateway offline on 1-6 % of days.

>>> import numpy as np
>>> from simulators.models import Baseline, Pathway
>>> base = Baseline(80.0, 130.0, 80.0, 95.0, 70.0)
>>> t = draw_traits(np.random.default_rng(1), Pathway.CHF, base)
>>> 0.25 <= t.weight_day_sd <= 0.9 and 0.0 <= t.weekly_kg <= 0.007 * 80.0
True
"""

from __future__ import annotations

import math

import numpy as np

from simulators.models import Baseline, Pathway
from simulators.truth.models import Traits

#: Share of scales that report pounds (assumption).
LB_SHARE = 0.20
#: Orsama et al. 2014: weekly range about 0.35 % of body weight on average.
WEEKLY_SHARE_MAX = 0.007
#: Weekly weight profile, Monday first: high Sunday-Monday, low Friday (Orsama et al. 2014).
WEEKLY_PROFILE = (0.5, 0.3, 0.0, -0.25, -0.5, -0.2, 0.45)


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return math.exp(float(rng.uniform(math.log(lo), math.log(hi))))


def _miss_rate(rng: np.random.Generator) -> float:
    u = float(rng.random())
    if u < 0.60:
        return float(rng.uniform(0.02, 0.10))
    if u < 0.80:
        return float(rng.uniform(0.10, 0.30))
    return float(rng.uniform(0.25, 0.65))


def draw_traits(rng: np.random.Generator, pathway: Pathway, baseline: Baseline) -> Traits:
    """One patient's traits (every draw is made, whatever the pathway, to keep the stream fixed)."""
    sys_total = float(np.clip(rng.normal(8.6, 3.1), 4.0, 18.0))
    dia_total = float(np.clip(rng.normal(5.8, 2.0), 3.0, 12.0))
    hr_total = float(rng.uniform(3.0, 7.0))
    copd = pathway is Pathway.COPD
    spo2_total = float(rng.uniform(0.7, 1.5) if copd else rng.uniform(0.5, 1.0))
    second = float(rng.uniform(0.05, 0.25)) if rng.random() < 0.30 else 0.0
    spikes = float(rng.uniform(0.01, 0.05)) if rng.random() < 0.40 else 0.0
    return Traits(
        weight_day_sd=_loguniform(rng, 0.25, 0.9),
        weight_phi=float(rng.uniform(0.5, 0.85)),
        weight_noise_sd=_loguniform(rng, 0.1, 0.6),
        weekly_kg=float(rng.uniform(0.0, WEEKLY_SHARE_MAX)) * baseline.weight_kg,
        season_kg=float(rng.uniform(0.0, 0.75)),
        season_systolic=float(rng.uniform(1.5, 7.0)),
        monday_systolic=float(rng.uniform(0.0, 5.0)),
        systolic_day_sd=sys_total * math.sqrt(0.6),
        systolic_noise_sd=sys_total * math.sqrt(0.4),
        diastolic_day_sd=dia_total * math.sqrt(0.4),
        diastolic_noise_sd=dia_total * math.sqrt(0.6),
        hr_day_sd=hr_total * math.sqrt(0.5),
        hr_noise_sd=hr_total * math.sqrt(0.5),
        spo2_day_sd=spo2_total * math.sqrt(0.5),
        spo2_noise_sd=spo2_total * math.sqrt(0.5),
        miss_day_rate=_miss_rate(rng),
        weekend_miss_factor=float(rng.uniform(1.2, 2.0)),
        weekend_late_min=float(rng.uniform(0.0, 90.0)),
        second_weighing_rate=second,
        clothed_runs_per_year=_loguniform(rng, 1.0, 12.0),
        bp_spike_rate=spikes,
        outlier_factor=_loguniform(rng, 0.5, 3.0),
        outage_rate=float(rng.uniform(0.01, 0.06)),
        lb_scale=bool(rng.random() < LB_SHARE),
    )
