"""Vendor clouds as plugins: one base covering a cloud vendor's whole life.

A vendor (Fitbit, Withings, ...) is a :class:`~devices.cloud.base.CloudVendor`
listed in :mod:`~devices.registry`; everything around it is shared:

* :mod:`~devices.cloud.models` (types: tokens, a connection, a notification),
* :mod:`~devices.cloud.sealing` (one sealer: tokens encrypted at rest and the
  signed OAuth ``state``, with a key per vendor),
* :mod:`~devices.cloud.service` (repository functions over the vendor-keyed
  tables ``vendor_connections``, ``vendor_auth_states``, ``vendor_pull_queue``),
* :mod:`~devices.cloud.connect` (the connect link, the OAuth callback's work,
  revocation),
* :mod:`~devices.cloud.puller` (one pull of one account: refresh, fetch,
  convert, publish; rate limits and revocation),
* :mod:`~devices.cloud.webhook` (notifications queued as pulls).

The plugin itself only speaks its vendor's protocol: the authorize URL, the
token endpoint, the data API, the subscriptions and the notifications' shape.
"""
