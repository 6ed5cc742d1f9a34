"""Fitbit: a vendor cloud plugin on the vendor base (:mod:`devices.cloud`).

Roles of the modules: :mod:`~devices.fitbit.plugin` (the
:class:`~devices.cloud.base.CloudVendor`), :mod:`~devices.fitbit.models`
(types), :mod:`~devices.fitbit.client` (the ``fitbit`` package pointed at the
configured URLs; rate limits), :mod:`~devices.fitbit.oauth` (authorize,
exchange, refresh, revoke), :mod:`~devices.fitbit.convert` (the
:class:`~devices.adapters.base.DeviceAdapter`: Fitbit JSON to Open mHealth)
and :mod:`~devices.fitbit.webhook` (the notifications' signature and shape).
Connections, sealing, pulls and the queue are the base's.
"""
