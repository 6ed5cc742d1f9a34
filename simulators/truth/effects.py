"""What each v2 event adds to each vital over time (days since the start).

Simulated patients only. Deteriorations follow their shape
(:func:`progress`): steady, accelerating (progress to a power), stepwise
(steps of :data:`~simulators.truth.deteriorations.STEP_DAYS`), abrupt (the whole
change in the last days) or after a prodrome (30 % early, the rest abrupt).
Weight confounders add what they are (a holiday gain partly lost again, a
regain or a diuretic step that stays); a stressful week raises blood pressure
with a day's ramp at each end. Confounders of single readings or of one device
(clothed weighings, a replaced scale, poor perfusion, spikes, outliers) are
applied to the readings themselves in :mod:`simulators.truth.readings`.

>>> import numpy as np
>>> from simulators.gt_models import TruthKind
>>> from simulators.truth.models import Plan, Spell
>>> d = Spell(TruthKind.DECOMPENSATION, 10.0, 20.0, returns=25.0,
...           params={"gain_kg": 3.0, "new_dry_weight_delta_kg": -1.0}, variant="steady")
>>> off = offsets(Plan((d,), (), 365.0, None), np.array([10.0, 15.0, 20.0, 30.0]))
>>> [round(float(x), 2) for x in off.weight]
[0.0, 1.5, 3.0, -1.0]
>>> d2 = Spell(TruthKind.DECOMPENSATION, 10.0, 20.0, returns=25.0,
...            params={"gain_kg": 3.0, "new_dry_weight_delta_kg": 0.0, "exponent": 2.0},
...            variant="accelerating")
>>> [round(float(x), 2) for x in offsets(Plan((d2,), (), 365.0, None), np.array([15.0])).weight]
[0.75]
"""

from __future__ import annotations

import numpy as np

from simulators.gt_models import TruthKind
from simulators.gt_signals import Offsets, ramp
from simulators.truth.deteriorations import STEP_DAYS
from simulators.truth.models import F64, Plan, Spell


def progress(s: Spell, t: F64) -> F64:
    """How far a deterioration has got at ``t``: 0 before its onset, 1 at its event."""
    x = ramp(t, s.onset, s.event)
    p = s.params
    if s.variant == "accelerating":
        return np.asarray(x ** p["exponent"], dtype=np.float64)
    if s.variant == "stepwise":
        n = int(p["steps"])
        span = s.event - s.onset
        out = np.zeros_like(t)
        for k in range(n):
            a = s.onset + p[f"step{k + 1}"] * span
            out += ramp(t, a, a + STEP_DAYS)
        return out / n
    if "abrupt_days" in p:
        late = ramp(t, s.event - p["abrupt_days"], s.event)
        return late if s.variant == "abrupt" else 0.3 * x + 0.7 * late
    return x


def offsets(plan: Plan, t: F64) -> Offsets:
    """Event offsets at times ``t``; the weight includes new dry weights after a stay."""
    weight, systolic = np.zeros_like(t), np.zeros_like(t)
    hr, spo2 = np.zeros_like(t), np.zeros_like(t)
    for s in plan.primary:
        p = s.params
        if s.kind is TruthKind.DECOMPENSATION:
            home = s.returns if s.returns is not None else s.event
            level = progress(s, t) * (t < home)
            weight += p["gain_kg"] * level + p["new_dry_weight_delta_kg"] * (t >= home)
            hr += p.get("hr_rise", 0.0) * level
            systolic += p.get("systolic_change", 0.0) * level
            spo2 -= p.get("spo2_drop", 0.0) * level
        elif s.kind is TruthKind.COPD_EXACERBATION:
            level = progress(s, t) * (1.0 - ramp(t, s.event, s.event + p["recovery_days"]))
            spo2 -= p["spo2_drop"] * level
            hr += p["hr_rise"] * level
        elif s.kind is TruthKind.HYPERTENSIVE_EPISODE:
            ease = s.event + p["hold_days"]
            level = progress(s, t) * (1.0 - ramp(t, ease, ease + p["resolve_days"]))
            systolic += p["systolic_rise"] * level
            hr += p["hr_rise"] * level
    for s in plan.confounders:
        p = s.params
        if s.kind is TruthKind.HOLIDAY_GAIN:
            kept = p["kept_fraction"]
            fade = kept + (1.0 - kept) * (1.0 - ramp(t, s.event, s.event + p["loss_days"]))
            weight += p["gain_kg"] * ramp(t, s.onset, s.event) * fade
        elif s.kind is TruthKind.POST_DISCHARGE_REGAIN:
            x = ramp(t, s.onset, s.event)
            weight += p["gain_kg"] * (1.0 - (1.0 - x) ** 2)
        elif s.kind is TruthKind.DIURETIC_CHANGE:
            weight += p["step_kg"] * ramp(t, s.onset, s.event)
        elif s.kind is TruthKind.STRESS_WEEK:
            level = ramp(t, s.onset, s.onset + 1.0) * (1.0 - ramp(t, s.event - 1.0, s.event))
            systolic += p["systolic_rise"] * level
            hr += p["hr_rise"] * level
    return Offsets(weight, systolic, hr, spo2)
