"""Every vendor cloud of the hub: the vendors process, the API and the tests loop over these.

Adding a vendor: a :class:`~devices.cloud.base.CloudVendor` in its own
package, a :class:`~hub.settings.VendorSettings` field named after it in
``hub/settings.py``, and a line here.
"""

from __future__ import annotations

from devices.cloud.base import CloudVendor
from devices.fitbit.plugin import FitbitCloud
from devices.withings.plugin import WithingsCloud

VENDORS: dict[str, CloudVendor] = {
    vendor.name: vendor for vendor in (FitbitCloud(), WithingsCloud())
}
