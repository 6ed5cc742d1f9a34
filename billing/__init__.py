"""Billing evidence: the US CMS rules, and the counting over a coordinator's evidence.

This is its own package because three things read it and none of them owns
it: the programmes (enrolment, consent, time entries, which live in the
database), the exports that hand a month's evidence to a biller, and the
forecast on the worklist ("needs 6 more days in 8"). Each asks the same
questions -- how many device days in this 30-day period, which time codes
this month's minutes earn, when a transitional-care clock runs out -- and
must get the same answer, so the answer is written once, here.

It is pure: no database, no clock, no settings. Inputs are the frozen types
of :mod:`billing.models`, built by the caller from whatever it stores; the
rules are data (``billing/rules/cms-<year>.toml``), one file per calendar
year, chosen by the service date. It imports only :mod:`hub` and libraries,
never a package above the domains.

Modules:

- :mod:`billing.rules` -- loading and validating the versioned rules files.
- :mod:`billing.device_days` -- 30-day periods, days with sensed data (99453/99454/99445).
- :mod:`billing.time_codes` -- a month's minutes per programme (99470/99457/99458, 99490/99439).
- :mod:`billing.tcm` -- transitional-care clocks after a discharge (99495/99496).
- :mod:`billing.forecast` -- what an open period or month still needs.
- :mod:`billing.exceptions` -- the one exception root, :class:`~billing.exceptions.BillingError`.
"""
