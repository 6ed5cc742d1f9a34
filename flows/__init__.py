"""Work that crosses domains, in one place (the orchestration layer).

The domains below (``ingest`` receiving and validating, ``streaming``
detection, ``alerts`` the alert life cycle, ``devices``) do not call each
other; what needs several of them runs here:

- the ingest worker (:mod:`flows.worker`): MQTT in, batches out
  (:mod:`flows.batches`), each batch one transaction (:mod:`flows.writer`):
  the device routes (:mod:`flows.directory`), the readings' COPY, scoring,
  alerts and their evidence, device reports and dispenses
  (:mod:`flows.reports`), checkpoints; acked after the commit;
- the scheduled passes (:mod:`flows.schedule`: non-adherence, device silence,
  reading gaps in :mod:`flows.reading_gaps`; refill checks in
  :mod:`flows.refill_checks`), each turning a domain's findings into alerts in
  one transaction;
- the month's billing export and its sign-off (:mod:`flows.billing_export`):
  the programmes' and the readings' evidence counted by the ``billing`` rules.
"""
