"""Exceptions of the ``devices`` package.

Tree::

    DevicesError                root of the devices package
    └── VendorError …           a vendor cloud's errors (devices.adapters.exceptions)

The broker's dynamic-security errors (``DynsecError``) are the private
services' (``hub.services.exceptions``): credentials are set through
``hub.services.dynsec``.
"""

from __future__ import annotations


class DevicesError(Exception):
    """Root of the devices package's exceptions."""
