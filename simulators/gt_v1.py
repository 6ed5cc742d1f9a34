"""One patient of the v1 ground-truth generator (gt_events, gt_signals), as it always was.

Simulated patients only. Kept exactly as it was before v2 (:mod:`simulators.truth`):
for a seed, v1 draws the same readings and events, reading for reading (a test
holds it to a digest taken before v2 was written).
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np

from hub.domain import DeviceKind, Measure
from simulators.cohort import PATHWAY_DEVICES
from simulators.gt_events import Episode, draw_schedule
from simulators.gt_models import PatientProfile, TruthEvent, TruthKind, TruthPatient, at_day
from simulators.gt_signals import Calendar, PatientSeries, simulate_patient
from simulators.models import Pathway
from simulators.physiology import draw_baseline, draw_routine


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
    """The v1 patient's ground truth, profile, readings and events."""
    prng = random.Random(f"{seed}/gt/patient/{index}")
    baseline, routine = draw_baseline(prng, pathway), draw_routine(prng, pathway)
    devices = PATHWAY_DEVICES[pathway]
    rng = np.random.default_rng((seed, index))
    first_saturday = float((5 - calendar.weekday) % 7)
    schedule = draw_schedule(
        rng,
        pathway,
        days=days,
        has_scale=DeviceKind.SCALE in devices,
        n_devices=len(devices),
        first_saturday=first_saturday,
    )
    s, outliers = simulate_patient(
        rng,
        baseline=baseline,
        routine=routine,
        devices=devices,
        schedule=schedule,
        days=days,
        calendar=calendar,
        copd=pathway is Pathway.COPD,
    )
    patient = TruthPatient(
        index=index,
        patient_id=patient_id,
        pathway=pathway,
        devices=devices,
        start=start,
        follow_end=at_day(start, schedule.follow_end),
        baseline=dataclasses.asdict(baseline),
    )
    profile = PatientProfile(
        baseline, routine, tuple(index * 4 + k + 1 for k in range(len(devices)))
    )
    episodes = [*schedule.primary, *schedule.bumps]
    if schedule.dropout is not None:
        episodes.append(schedule.dropout)
    events = [_truth_event(start, index, patient_id, ep) for ep in episodes]
    events.extend(
        TruthEvent(
            index,
            patient_id,
            TruthKind.OUTLIER,
            start + timedelta(seconds=o.measured_s),
            start + timedelta(seconds=o.measured_s),
            params={"delta": o.delta},
            measure=o.measure,
        )
        for o in outliers
    )
    return patient, profile, s, events


def _truth_event(start: datetime, index: int, pid: UUID, ep: Episode) -> TruthEvent:
    params = dict(ep.params)
    if ep.kind is TruthKind.NON_ADHERENCE and ep.device_slot >= 0:
        params["device_slot"] = float(ep.device_slot)
    return TruthEvent(
        patient_index=index,
        patient_id=pid,
        kind=ep.kind,
        onset=at_day(start, ep.onset),
        event_time=at_day(start, ep.event),
        returns_at=at_day(start, ep.returns) if ep.returns is not None else None,
        params=params,
        measure=Measure.BODY_WEIGHT if ep.kind is TruthKind.WEEKEND_BUMP else None,
    )
