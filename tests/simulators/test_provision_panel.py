"""Simulated patients join the named coordinators' panels (as ``lastmile up`` asks),
with made-up conditions and discharge-risk inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.settings import Settings
from simulators.cohort import build_cohort
from simulators.exceptions import ProvisioningError
from simulators.provision import provision_cohort
from tests.api_support import caller

pytestmark = pytest.mark.services


def test_the_cohort_is_on_the_coordinators_panel(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    caller(api, conn, "bob")
    cohort = build_cohort(3, seed=5, end=datetime.now(UTC).replace(microsecond=0), days=5)
    token = settings.admin_token.get_secret_value()
    provision_cohort(cohort, api_url="", admin_token=token, client=api, coordinators=["ann"])
    seen = api.get("/api/v1/patients", headers=ann.headers).json()
    assert len(seen) == 3
    assert all(p["coordinators"] == [str(ann.id)] for p in seen)
    # Their (made-up) index stays give the worklist a discharge risk to rank by.
    assert all(p["lace"] is not None and p["hospital"] is not None for p in seen)
    assert all(p["conditions"] for p in seen if p["pathway"] != "default")
    with pytest.raises(ProvisioningError, match="no such user: zed"):
        provision_cohort(cohort, api_url="", admin_token=token, client=api, coordinators=["zed"])
