"""A month's billing evidence from storage, its export, and a supervisor's sign-off (issue #17).

The orchestration between the programmes (``programs``: episodes, consent,
time), the readings and devices (``hub``), and the pure CMS rules engine
(``billing``), which do not import each other. For a month ``YYYY-MM`` and a
scope (an admin's every patient, or a supervisor's panel) it reads the
evidence with set-based queries (``hub/sql/billing.sql``), a batch of
patients at a time, runs the engine, and gives one row per patient,
programme, period or month, and code, with its units, its status
(billable, at risk, none), what is missing, and the evidence.

What a month holds (days and months are the patient's, in their zone):

- RPM device supply (99454/99445) and set-up (99453): each 30-day period of
  an episode in the month it *ends* in (cut short by the episode's end, it
  ends then); days of the month with sensed data and no RPM episode, enough
  for a code, as a row flagged ``no_order``;
- RPM and CCM time codes: the calendar month's entries (and time moved to it
  from a month already signed);
- TCM (99495/99496): in the month its 30-day service period ends.

Modules:

- :mod:`~flows.billing_export.calendar` -- months, periods and bounds (pure);
- :mod:`~flows.billing_export.evidence` -- the scope and the evidence read;
- :mod:`~flows.billing_export.rows` -- the row, its status and flags;
- :mod:`~flows.billing_export.rpm`, :mod:`~flows.billing_export.care` -- rows from evidence;
- :mod:`~flows.billing_export.export` -- batches and the document;
- :mod:`~flows.billing_export.render` -- canonical JSON and CSV;
- :mod:`~flows.billing_export.signoff` -- the frozen month;
- :mod:`~flows.billing_export.exceptions` -- one root, :class:`BillingExportError`.
"""
