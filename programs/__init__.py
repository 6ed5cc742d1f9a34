"""Care programmes and the coordinator's time: the stored evidence for US CMS billing.

A domain of its own, beside alerts and devices: episodes of a care
programme (remote physiologic monitoring, chronic care management,
transitional care management), their orders, conditions and consent, and
the time and contacts a coordinator logs toward them. It is not part of the
alert life cycle (time is spent on patients without alerts, and an alert is
not a programme) nor of the device registry (an RPM episode outlives its
devices), so neither package holds it. Whether the stored evidence adds up
to a billable code is for the rules engine (``billing/``), which reads what
this package stores and stores nothing here.

Modules, by concept:

* :mod:`programs.models` — the types (kinds, activities, episodes, entries, timers).
* :mod:`programs.codes` — the checks of an NPI and of ICD-10-CM code format.
* :mod:`programs.episodes` — episodes: start, record (consent, RPM set-up, TCM milestones), end.
* :mod:`programs.facts` — the rules of what is recorded of an episode, one for every fact.
* :mod:`programs.records` — the append-only record of it, with who recorded each and when.
* :mod:`programs.corrections` — corrections of that record: new rows, with who, when, why.
* :mod:`programs.timelog` — time entries: log, correct (append-only), list.
* :mod:`programs.timers` — a coordinator's running timer on a patient.
* :mod:`programs.exceptions` — the package's errors, one root.

Repository functions are keyword-only, take the connection and never
commit; the SQL is in ``hub/sql/programs.sql``, the tables in migrations
0023 and 0028. This package imports only ``hub``.

Rules kept here (they hold whoever calls):

* An ordering practitioner's NPI passes its check digit; condition codes
  have the ICD-10-CM shape; a CCM episode has two or more conditions.
* A patient has at most one open episode of each kind, and a new episode of
  a kind starts after the previous one of that kind ended.
* Consent: time toward an RPM or a CCM episode is refused until the
  patient's consent is recorded on it, and time on a day before the consent
  date is refused too. CMS requires the consent (verbal or written,
  documented) before either service starts: for CCM since the CY2015
  physician fee schedule (MLN909188, "Chronic Care Management Services"),
  for RPM as the CY2021 fee schedule's final rule restated (it may be
  obtained when the service is furnished). TCM asks for no separate
  consent (MLN908628, "Transitional Care Management Services"), so a TCM
  episode needs none.
* A minute counts toward one programme: an entry names exactly one episode,
  and falls within its dates on the patient's own calendar (time zone).
* Nothing recorded is rewritten: time entries and what is recorded of an
  episode (consent, set-up, TCM milestones and contact attempts) are
  corrected by new rows that supersede the latest of their chain, with who,
  when and why; the old rows stay.
"""
