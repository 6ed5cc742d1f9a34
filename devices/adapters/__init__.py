"""Vendor adapters: cloud vendors' data enters the hub like any gateway's.

:mod:`devices.adapters.base` has the :class:`DeviceAdapter` interface,
:mod:`devices.adapters.gateway` the vendor gateways (one per vendor per hub),
:mod:`devices.adapters.publisher` the MQTT client that delivers a vendor's
Open mHealth data points on its gateway's readings topics, and
:mod:`devices.registry` the list of every adapter.
"""
