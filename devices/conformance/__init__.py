"""The vendor conformance kit: ``lastmile conformance``.

A vendor runs it against a hub with its gateway's credentials, or offline
against its payload files, before shipping a gateway. Modules:

* :mod:`~devices.conformance.models`: frozen types of samples, outcomes, report;
* :mod:`~devices.conformance.samples`: sample files and their expectations;
* :mod:`~devices.conformance.offline`: samples through the hub's own Validator;
* :mod:`~devices.conformance.session`: a small synchronous MQTT client;
* :mod:`~devices.conformance.online`: samples published to a hub, answers collected;
* :mod:`~devices.conformance.acl`: topic and ACL checks on the broker (MQTT 5);
* :mod:`~devices.conformance.report`: the table, the summary and the JSON report;
* :mod:`~devices.conformance.cli`: the click command.

The guide for vendors is ``docs/integration.md`` ("Conformance kit").
"""
