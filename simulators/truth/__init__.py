"""The v2 ground-truth generator: home telemonitoring data as it really looks.

Simulated patients only. :func:`simulators.groundtruth.build_truth_cohort`
calls :func:`simulators.truth.patient.draw_patient` for each patient when
``generator="v2"`` (the default); v1 (:mod:`simulators.gt_events`,
:mod:`simulators.gt_signals`) stays as it was, reading for reading.

The v1 simulator was too kind to the detectors tuned on it: every
decompensation a steady ramp of 0.1-0.5 kg/day, no confounder ever overlapping
an event, and one noise level for everybody. v2 is split by concept:

- :mod:`~simulators.truth.models`: the types (a :class:`~simulators.truth.models.Spell`
  is one event in days since the start; a patient's :class:`~simulators.truth.models.Plan`);
- :mod:`~simulators.truth.traits`: each patient's habits and variabilities
  (noise, weekly and seasonal swings, adherence, scale unit, odd-weighing habits);
- :mod:`~simulators.truth.deteriorations`: decompensations, COPD exacerbations and
  hypertensive episodes of varied shapes, sizes and speeds, their rates, and the
  non-adherence gaps and drop-outs;
- :mod:`~simulators.truth.confounders`: what looks like an event and is not
  (holiday, seasonal and post-discharge weight gains, diuretic changes, clothed
  weighings, a replaced scale, stressful weeks, poor perfusion), placed
  independently of the events, so they overlap them;
- :mod:`~simulators.truth.effects`: what each event adds to each vital over time;
- :mod:`~simulators.truth.readings`: the readings themselves (vectorised with numpy);
- :mod:`~simulators.truth.patient`: one patient, put together as the ground truth.

Every number taken from the literature names its source where it is used;
values without one are marked as assumptions.
"""
