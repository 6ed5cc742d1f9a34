"""Fitbit: per-patient OAuth 2.0 connections, pulls, and the subscription webhook.

Roles of the modules: :mod:`~devices.fitbit.models` (types),
:mod:`~devices.fitbit.crypto` (tokens encrypted at rest, signed OAuth state),
:mod:`~devices.fitbit.client` (the ``fitbit`` package pointed at the
configured URLs; rate limits), :mod:`~devices.fitbit.oauth` (authorize,
exchange, refresh, revoke), :mod:`~devices.fitbit.convert` (the
:class:`~devices.adapters.base.DeviceAdapter`: Fitbit JSON to Open mHealth),
:mod:`~devices.fitbit.service` (repository functions),
:mod:`~devices.fitbit.connect` (the OAuth callback's work),
:mod:`~devices.fitbit.puller` (one pull of one account) and
:mod:`~devices.fitbit.webhook` (the subscriber endpoint's checks).
"""
