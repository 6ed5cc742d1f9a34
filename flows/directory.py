"""Which device a serial is, cached for the ingest worker."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from devices.lifecycle import registry_changed_at
from devices.models import DeviceRoute
from devices.service import routes_for_serials
from hub.db import Conn
from hub.domain import RejectionCode


class DeviceDirectory:
    """Cache of serial → route, refreshed after ``ttl_s`` and on every miss.

    Misses are looked up in the database each batch (a device registered a
    second ago is found); known routes are re-read after ``ttl_s``, and all of
    them as soon as any device or gateway changed status (one indexed query
    per lookup), so a disabled, retired or replaced device is refused from the
    next batch on.
    """

    def __init__(self, *, ttl_s: float = 30.0) -> None:
        self._ttl_s = ttl_s
        self._routes: dict[str, tuple[float, DeviceRoute]] = {}
        self._changed_at: datetime | None = None

    def lookup(self, conn: Conn, *, serials: Iterable[str]) -> dict[str, DeviceRoute]:
        serials = set(serials)
        if not serials:
            return {}
        changed_at = registry_changed_at(conn)
        if changed_at != self._changed_at:
            self._routes.clear()
            self._changed_at = changed_at
        now = time.monotonic()
        found: dict[str, DeviceRoute] = {}
        missing: list[str] = []
        for serial in serials:
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


def route_problem(
    route: DeviceRoute | None, gateway_id: str, serial: str
) -> tuple[RejectionCode, str] | None:
    """Why a message from ``serial`` on ``gateway_id`` is refused, if it is."""
    if route is None:
        return RejectionCode.UNKNOWN_DEVICE, f"device {serial} is not registered"
    if route.gateway_id != gateway_id:
        return RejectionCode.DEVICE_NOT_ON_GATEWAY, (
            f"device {serial} is not registered to gateway {gateway_id}"
        )
    if route.gateway_status != "active":
        return RejectionCode.DEVICE_DISABLED, f"gateway {gateway_id} is disabled"
    if route.status == "retired":
        return RejectionCode.DEVICE_RETIRED, f"device {serial} is retired"
    if route.status == "disabled":
        return RejectionCode.DEVICE_DISABLED, f"device {serial} is disabled"
    return None
