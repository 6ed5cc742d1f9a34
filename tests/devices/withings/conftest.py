"""Fixtures of the Withings tests: a fake Withings, and the hub pointed at it.

They override those of ``tests/devices/conftest.py`` (a fake Fitbit) in this folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from devices.adapters.publisher import VendorPublisher
from devices.cloud.puller import Puller
from devices.registry import VENDORS
from devices.vendors import vendor_publisher
from hub.settings import Settings
from tests.conftest import fresh_database
from tests.devices.withings.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT,
    WithingsHub,
    configured,
)
from tests.fakes.withings_api import FakeWithings


@pytest.fixture
def fake() -> Iterator[FakeWithings]:
    with FakeWithings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT) as f:
        yield f


@pytest.fixture
def settings(services: Settings, fake: FakeWithings) -> Iterator[Settings]:
    """A fresh database, and Withings configured to be the fake (overrides the root fixture)."""
    with fresh_database(services) as fresh:
        yield configured(fresh, fake)


@pytest.fixture
def publisher(settings: Settings) -> Iterator[VendorPublisher]:
    """The Withings gateway's MQTT client, connected with a fresh password."""
    with vendor_publisher(settings, VENDORS["withings"]) as connected:
        yield connected


@pytest.fixture
def hub(
    api: TestClient,
    conn: psycopg.Connection[Any],
    fake: FakeWithings,
    settings: Settings,
    publisher: VendorPublisher,
) -> WithingsHub:
    return WithingsHub(api, conn, fake, Puller(settings, VENDORS["withings"], publisher))
