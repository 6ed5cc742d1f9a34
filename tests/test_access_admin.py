"""Admin-only routes that name a device or gateway: a coordinator gets 403 whether the
object exists or not (nothing leaks), an admin gets 404 for a missing one."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api_support import caller
from tests.support import provision

pytestmark = pytest.mark.services

#: (method, path template) → (path with ``{serial}`` / ``{gateway_id}`` to fill, JSON body).
ADMIN_CALLS: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/v1/devices/{serial}"): None,
    ("POST", "/api/v1/devices/{serial}/retire"): {},
    ("POST", "/api/v1/devices/{serial}/replace"): {"serial": "NEW-SERIAL-1"},
    ("POST", "/api/v1/devices/{serial}/disable"): {},
    ("POST", "/api/v1/devices/{serial}/enable"): {},
    ("GET", "/api/v1/gateways/{gateway_id}"): None,
    ("POST", "/api/v1/gateways/{gateway_id}/password"): None,
    ("POST", "/api/v1/gateways/{gateway_id}/disable"): None,
    ("POST", "/api/v1/gateways/{gateway_id}/enable"): None,
}


def _call(
    api: TestClient, key: tuple[str, str], serial: str, gateway_id: str, **kwargs: Any
) -> Any:
    method, template = key
    path = template.format(serial=serial, gateway_id=gateway_id)
    body = ADMIN_CALLS[key]
    return api.request(method, path, json=body, **kwargs)


def test_coordinators_get_403_for_existing_and_missing_objects_alike(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    ann = caller(api, conn, "ann")
    for key in ADMIN_CALLS:
        for serial, gateway_id in ((gw.serials["scale"], gw.gateway_id), ("NOPE", "gw-00000000")):
            got = _call(api, key, serial, gateway_id, headers=ann.headers)
            assert (got.status_code, got.json()["code"]) == (403, "forbidden"), key
        missing = _call(api, key, "NOPE", "gw-00000000")
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found"), key
