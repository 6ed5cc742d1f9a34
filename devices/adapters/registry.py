"""Every vendor adapter of the hub; the adapter contract suite runs over all of them."""

from __future__ import annotations

from typing import Any

from devices.adapters.base import DeviceAdapter
from devices.cloud.registry import VENDORS

ADAPTERS: tuple[type[DeviceAdapter[Any]], ...] = tuple(
    type(vendor.adapter) for vendor in VENDORS.values()
)
