"""Exceptions of the vendor adapters, under the ``devices`` package's root.

Tree::

    DevicesError                    root of the devices package (devices.exceptions)
    └── VendorError                 a vendor adapter could not do its work
        ├── VendorPublishError      the broker refused the vendor gateway or did not acknowledge
        └── FitbitError             Fitbit specifics (devices.fitbit.exceptions)
"""

from __future__ import annotations

from devices.exceptions import DevicesError


class VendorError(DevicesError):
    """A vendor adapter could not do its work."""


class VendorPublishError(VendorError):
    """The vendor gateway could not deliver its points to the broker."""
