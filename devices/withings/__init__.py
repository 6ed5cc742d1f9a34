"""Withings: a vendor cloud plugin on the vendor base (:mod:`devices.cloud`).

Scales, blood-pressure cuffs, oximeters and thermometers that sync to the
Withings cloud. Roles of the modules: :mod:`~devices.withings.plugin` (the
:class:`~devices.cloud.base.CloudVendor`), :mod:`~devices.withings.client`
(Withings' ``{"status", "body"}`` answers, OAuth 2.0 token calls, signed
calls, the Measure and Notify services), :mod:`~devices.withings.status`
(Withings' status families and the hub's exception for each),
:mod:`~devices.withings.convert` (the adapter: measure
groups to Open mHealth) and :mod:`~devices.withings.exceptions`.
"""
