"""Every vendor cloud of the hub, and their adapters: the vendors process, the API and the
tests (the adapter contract suite among them) loop over these.

Adding a vendor: a :class:`~devices.cloud.base.CloudVendor` in its own
package, a :class:`~hub.settings.VendorSettings` field named after it in
``hub/settings.py``, and a line here.
"""

from __future__ import annotations

from typing import Any

from devices.adapters.base import DeviceAdapter
from devices.cloud.base import CloudVendor
from devices.fitbit.plugin import FitbitCloud
from devices.withings.plugin import WithingsCloud

VENDORS: dict[str, CloudVendor] = {
    vendor.name: vendor for vendor in (FitbitCloud(), WithingsCloud())
}

ADAPTERS: tuple[type[DeviceAdapter[Any]], ...] = tuple(
    type(vendor.adapter) for vendor in VENDORS.values()
)
