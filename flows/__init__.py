"""Work that crosses domains, in one place (the orchestration layer).

The domains below (``ingest`` receiving and validating, ``streaming``
detection, ``alerts`` the alert life cycle, ``devices``) do not call each
other; what needs several of them runs here: the scheduled passes
(:mod:`flows.schedule`: non-adherence, device silence, reading gaps;
:mod:`flows.reading_gaps`; :mod:`flows.refill_checks`), each turning a
domain's findings into alerts in one transaction.
"""
