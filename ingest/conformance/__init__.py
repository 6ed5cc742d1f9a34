"""The vendor conformance kit: ``lastmile conformance``.

A vendor runs it against a hub with its gateway's credentials, or offline
against its payload files, before shipping a gateway. Modules:

* :mod:`~ingest.conformance.models`: frozen types of samples, outcomes, report;
* :mod:`~ingest.conformance.samples`: sample files and their expectations;
* :mod:`~ingest.conformance.offline`: samples through the hub's own Validator;
* :mod:`~ingest.conformance.session`: a small synchronous MQTT client;
* :mod:`~ingest.conformance.online`: samples published to a hub, answers collected;
* :mod:`~ingest.conformance.acl`: topic and ACL checks on the broker (MQTT 5);
* :mod:`~ingest.conformance.report`: the table, the summary and the JSON report;
* :mod:`~ingest.conformance.cli`: the click command.

The guide for vendors is ``docs/integration.md`` ("Conformance kit").
"""
