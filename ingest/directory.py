"""Which device a serial is, cached for the ingest worker."""

from __future__ import annotations

import time
from collections.abc import Iterable

from devices.models import DeviceRoute
from devices.service import routes_for_serials
from hub.db import Conn


class DeviceDirectory:
    """Cache of serial → route, refreshed after ``ttl_s`` and on every miss.

    Misses are looked up in the database each batch (a device registered a
    second ago is found); known routes are re-read after ``ttl_s`` so that a
    disabled or moved device is noticed.
    """

    def __init__(self, *, ttl_s: float = 30.0) -> None:
        self._ttl_s = ttl_s
        self._routes: dict[str, tuple[float, DeviceRoute]] = {}

    def lookup(self, conn: Conn, *, serials: Iterable[str]) -> dict[str, DeviceRoute]:
        now = time.monotonic()
        found: dict[str, DeviceRoute] = {}
        missing: list[str] = []
        for serial in set(serials):
            cached = self._routes.get(serial)
            if cached is not None and now - cached[0] < self._ttl_s:
                found[serial] = cached[1]
            else:
                missing.append(serial)
        if missing:
            for serial, route in routes_for_serials(conn, serials=missing).items():
                self._routes[serial] = (now, route)
                found[serial] = route
        return found

    def forget(self) -> None:
        self._routes.clear()
