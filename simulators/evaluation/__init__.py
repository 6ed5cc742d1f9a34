"""Evaluation: how well the detectors find simulated (or a clinic's own) events.

``lastmile eval``: a cohort file or a simulated cohort runs through the hub's
own validation, normalisation and engine (``cohort_*``), is scored against its
events with curves against the rule of thumb (``cohort_eval``,
``cohort_curves``, ``cohort_report``), on held-out seeds by default
(``eval_seeds``); ``--pipeline`` runs a simulated cohort through the real MQTT
pipeline (``eval_pipeline``). The cohorts themselves come from the simulation
modules one level up; nothing there imports this package.
"""
