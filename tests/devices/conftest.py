"""Fixtures of the vendor-adapter tests: a fake Fitbit, and the hub pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from devices.adapters.publisher import VendorPublisher
from devices.cloud.puller import Puller
from devices.registry import VENDORS
from devices.vendors import vendor_publisher
from hub.settings import Settings, VendorSettings
from tests.conftest import fresh_database
from tests.fakes.fitbit_api import FakeFitbit

CLIENT_ID = "23ABCD"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
REDIRECT = "http://testserver/api/v1/fitbit/callback"
VERIFY_CODE = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


@pytest.fixture
def fake() -> Iterator[FakeFitbit]:
    with FakeFitbit(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT) as f:
        yield f


@pytest.fixture
def settings(services: Settings, fake: FakeFitbit) -> Iterator[Settings]:
    """A fresh database, and Fitbit configured to be the fake (overrides the root fixture)."""
    with fresh_database(services) as fresh:
        fitbit = VendorSettings(
            client_id=CLIENT_ID,
            client_secret=SecretStr(CLIENT_SECRET),
            redirect_url=REDIRECT,
            verification_code=SecretStr(VERIFY_CODE),
            api_url=fake.origin,
            authorize_url=fake.origin,
            token_key=SecretStr("a token key for the tests, long enough"),
            ca_file=fake.ca_file,
            backfill_days=4,
        )
        yield fresh.model_copy(update={"fitbit": fitbit})


@pytest.fixture
def publisher(settings: Settings) -> Iterator[VendorPublisher]:
    """The Fitbit gateway's MQTT client, connected with a fresh password."""
    with vendor_publisher(settings, VENDORS["fitbit"]) as connected:
        yield connected


@pytest.fixture
def puller(settings: Settings, publisher: VendorPublisher) -> Puller:
    return Puller(settings, VENDORS["fitbit"], publisher)


@dataclass(frozen=True)
class FitbitHub:
    """The hub's API and database, the fake Fitbit, and the vendors' puller."""

    api: TestClient
    conn: psycopg.Connection[Any]
    fake: FakeFitbit
    puller: Puller


@pytest.fixture
def hub(
    api: TestClient, conn: psycopg.Connection[Any], fake: FakeFitbit, puller: Puller
) -> FitbitHub:
    return FitbitHub(api, conn, fake, puller)
