"""One v2 patient, put together as its ground truth, profile and readings.

Simulated patients only. The personal baseline and routine are drawn as in v1
(same seed and index, same person); everything else comes from a numpy stream
of its own, ``default_rng((seed, index, 2))``, so a patient's data depend only
on the seed and the index.

>>> from datetime import UTC, datetime
>>> from uuid import UUID
>>> from simulators.gt_signals import Calendar
>>> from simulators.models import Pathway
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> p, profile, series, events = draw_patient(
...     1, 0, Pathway.CHF, patient_id=UUID(int=1), start=start, days=90.0,
...     calendar=Calendar(0.0, start.weekday()))
>>> p.devices[:3], len(profile.device_ids) == len(p.devices) == len(p.device_units)
((<DeviceKind.SCALE: 'scale'>, <DeviceKind.BP_CUFF: 'bp_cuff'>, \
<DeviceKind.PULSE_OXIMETER: 'pulse_oximeter'>), True)
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np

from hub.domain import DeviceKind
from simulators.cohort import PATHWAY_DEVICES
from simulators.gt_models import PatientProfile, TruthEvent, TruthKind, TruthPatient, at_day
from simulators.gt_signals import Calendar, PatientSeries
from simulators.models import Pathway
from simulators.physiology import draw_baseline, draw_routine
from simulators.truth.confounders import draw_confounders
from simulators.truth.deteriorations import draw_primaries
from simulators.truth.models import Plan, Spell
from simulators.truth.readings import Single, simulate_readings
from simulators.truth.traits import draw_traits


def _event(start: datetime, index: int, pid: UUID, s: Spell) -> TruthEvent:
    return TruthEvent(
        patient_index=index,
        patient_id=pid,
        kind=s.kind,
        onset=at_day(start, s.onset),
        event_time=at_day(start, s.event),
        returns_at=at_day(start, s.returns) if s.returns is not None else None,
        params=dict(s.params),
        measure=s.measure,
        variant=s.variant,
    )


def _single(start: datetime, index: int, pid: UUID, s: Single) -> TruthEvent:
    at = start + timedelta(seconds=s.measured_s)
    return TruthEvent(index, pid, s.kind, at, at, params=s.params, measure=s.measure)


def draw_patient(
    seed: int,
    index: int,
    pathway: Pathway,
    *,
    patient_id: UUID,
    start: datetime,
    days: float,
    calendar: Calendar,
) -> tuple[TruthPatient, PatientProfile, PatientSeries, list[TruthEvent]]:
    """The patient's ground truth, profile, readings and events (in no particular order)."""
    prng = random.Random(f"{seed}/gt/patient/{index}")
    baseline, routine = draw_baseline(prng, pathway), draw_routine(prng, pathway)
    first = PATHWAY_DEVICES[pathway]
    rng = np.random.default_rng((seed, index, 2))
    traits = draw_traits(rng, pathway, baseline)
    routine = dataclasses.replace(routine, miss_day_rate=round(traits.miss_day_rate, 3))
    primary, follow_end, dropout = draw_primaries(
        rng, pathway, days=days, n_devices=len(first), day_of_year=calendar.day_of_year
    )
    scale_slot = first.index(DeviceKind.SCALE) if DeviceKind.SCALE in first else -1
    confounders = draw_confounders(
        rng,
        pathway=pathway,
        scale_slot=scale_slot,
        n_devices=len(first),
        has_oximeter=DeviceKind.PULSE_OXIMETER in first,
        traits=traits,
        primary=primary,
        follow_end=follow_end,
        start=start,
    )
    plan = Plan(primary, tuple(confounders), follow_end, dropout)
    units = tuple("lb" if k is DeviceKind.SCALE and traits.lb_scale else "kg" for k in first)
    devices = first
    for s in plan.of_kind(TruthKind.SCALE_REPLACED):
        devices += (DeviceKind.SCALE,)
        units += ("lb" if s.params["unit_lb"] else "kg",)
    series, singles = simulate_readings(
        rng,
        baseline=baseline,
        routine=routine,
        traits=traits,
        devices=first,
        units=units,
        plan=plan,
        days=days,
        calendar=calendar,
    )
    patient = TruthPatient(
        index=index,
        patient_id=patient_id,
        pathway=pathway,
        devices=devices,
        start=start,
        follow_end=at_day(start, follow_end),
        baseline=dataclasses.asdict(baseline),
        device_units=units,
        traits=traits.as_params(),
    )
    profile = PatientProfile(
        baseline, routine, tuple(index * 4 + k + 1 for k in range(len(devices)))
    )
    spells = [*primary, *confounders, *([dropout] if dropout is not None else [])]
    events = [_event(start, index, patient_id, s) for s in spells]
    events += [_single(start, index, patient_id, s) for s in singles]
    return patient, profile, series, events
