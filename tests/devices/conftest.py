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
from devices.fitbit.puller import FitbitPuller
from devices.vendors import vendor_publisher
from hub.settings import Settings
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
        yield fresh.model_copy(
            update={
                "fitbit_client_id": CLIENT_ID,
                "fitbit_client_secret": SecretStr(CLIENT_SECRET),
                "fitbit_redirect_url": REDIRECT,
                "fitbit_verification_code": SecretStr(VERIFY_CODE),
                "fitbit_api_url": fake.origin,
                "fitbit_authorize_url": fake.origin,
                "fitbit_token_key": SecretStr("a token key for the tests, long enough"),
                "fitbit_ca_file": fake.ca_file,
                "fitbit_backfill_days": 4,
            }
        )


@pytest.fixture
def publisher(settings: Settings) -> Iterator[VendorPublisher]:
    """The Fitbit gateway's MQTT client, connected with a fresh password."""
    with vendor_publisher(settings) as connected:
        yield connected


@pytest.fixture
def puller(settings: Settings, publisher: VendorPublisher) -> FitbitPuller:
    return FitbitPuller(settings, publisher)


@dataclass(frozen=True)
class FitbitHub:
    """The hub's API and database, the fake Fitbit, and the vendors' puller."""

    api: TestClient
    conn: psycopg.Connection[Any]
    fake: FakeFitbit
    puller: FitbitPuller


@pytest.fixture
def hub(
    api: TestClient, conn: psycopg.Connection[Any], fake: FakeFitbit, puller: FitbitPuller
) -> FitbitHub:
    return FitbitHub(api, conn, fake, puller)
