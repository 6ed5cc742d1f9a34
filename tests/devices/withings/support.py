"""Helpers of the Withings tests: the hub pointed at a fake Withings, a patient connected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import psycopg
from fastapi.testclient import TestClient
from pydantic import SecretStr

from devices.cloud.puller import Puller
from hub.settings import Settings, VendorSettings
from tests.fakes.tls import client_context
from tests.fakes.withings_api import FakeAccount, FakeWithings

CLIENT_ID = "7573fd4a4c421ddd102dac406dc6e0e0e22f683c4a5e81ff0a5caf8b65abed67"
CLIENT_SECRET = "d9286311451fc6ed71b372a075c58c5058be158f56a77865e43ab3783255424f"
REDIRECT = "http://testserver/api/v1/withings/callback"
NOTIFY = "https://hub.example/api/v1/withings/webhook"
VERIFY_CODE = "withings notify secret for the tests"
USERID = 363


def configured(settings: Settings, fake: FakeWithings) -> Settings:
    withings = VendorSettings(
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        redirect_url=REDIRECT,
        notify_url=NOTIFY,
        verification_code=SecretStr(VERIFY_CODE),
        api_url=fake.origin,
        authorize_url=fake.origin,
        token_key=SecretStr("a Withings token key for the tests, long enough"),
        ca_file=fake.ca_file,
        backfill_days=4,
    )
    return settings.model_copy(update={"withings": withings})


def _at(days_ago: int, hour: int) -> int:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return int(datetime(day.year, day.month, day.day, hour, 7, tzinfo=UTC).timestamp())


def sample_account(userid: int = USERID) -> FakeAccount:
    """A scale's weight, a typed-in weight, a cuff's reading, an oximeter's, a thermometer's."""

    def m(value: int, kind: int, unit: int) -> dict[str, int]:
        return {"value": value, "type": kind, "unit": unit}

    return FakeAccount(
        userid=userid,
        groups=[
            {"grpid": 101, "attrib": 0, "date": _at(2, 7), "category": 1, "model": "Body+",
             "measures": [m(84600, 1, -3), m(2420, 6, -2)]},
            {"grpid": 102, "attrib": 2, "date": _at(1, 21), "category": 1,
             "measures": [m(852, 1, -1)]},
            {"grpid": 103, "attrib": 0, "date": _at(1, 8), "category": 1, "model": "BPM Core",
             "measures": [m(13150, 10, -2), m(84, 9, 0), m(71, 11, 0)]},
            {"grpid": 104, "attrib": 0, "date": _at(1, 9), "category": 1,
             "measures": [m(962, 54, -1)]},
            {"grpid": 105, "attrib": 0, "date": _at(1, 10), "category": 1, "model": "Thermo",
             "measures": [m(37650, 71, -3)]},
            {"grpid": 106, "attrib": 0, "date": _at(1, 11), "category": 2,  # an objective
             "measures": [m(80000, 1, -3)]},
        ],
    )  # fmt: skip


#: (measure, value, value2, modality) the sample account's pull stores; no temperature.
EXPECTED = [
    ("blood-pressure", 131.5, 84.0, "sensed"),
    ("body-temperature", 37.65, None, "sensed"),
    ("body-weight", 84.6, None, "sensed"),
    ("body-weight", 85.2, None, "self-reported"),
    ("heart-rate", 71.0, None, "sensed"),
    ("oxygen-saturation", 96.2, None, "sensed"),
]


def enroll(api: TestClient, timezone: str = "UTC") -> UUID:
    made = api.post("/api/v1/patients", json={"pathway": "CHF", "timezone": timezone})
    assert made.status_code == 201, made.text
    return UUID(made.json()["id"])


def connect(
    api: TestClient,
    fake: FakeWithings,
    account: FakeAccount | None = None,
    *,
    timezone: str = "UTC",
) -> UUID:
    """Enroll a patient (in ``timezone``) and connect a Withings account through the OAuth flow."""
    account = fake.add_account(account or sample_account())
    patient_id = enroll(api, timezone)
    link(api, fake, patient_id, account.userid)
    return patient_id


def link(api: TestClient, fake: FakeWithings, patient_id: UUID, userid: int) -> None:
    """The OAuth flow for an enrolled patient: the connect link, the consent, the callback."""
    fake.approve_as(userid)
    start = api.get(f"/api/v1/patients/{patient_id}/withings/connect")
    assert start.status_code == 200, start.text
    with httpx.Client(verify=client_context(fake.ca_file)) as browser:
        consent = browser.get(start.json()["authorize_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}
    back = api.get("/api/v1/withings/callback", params=query, follow_redirects=False)
    assert back.status_code == 303, back.text


def readings(conn: psycopg.Connection[Any], patient_id: UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT measure, value, value2, modality FROM readings WHERE patient_id = %s"
        " ORDER BY measure, measured_at",
        (patient_id,),
    ).fetchall()


def status_of(conn: psycopg.Connection[Any], patient_id: UUID) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT status, paused_until, last_error, pulled_through FROM vendor_connections"
        " WHERE vendor = 'withings' AND patient_id = %s",
        (patient_id,),
    ).fetchone()
    assert row is not None
    return tuple(row)


@dataclass(frozen=True)
class WithingsHub:
    api: TestClient
    conn: psycopg.Connection[Any]
    fake: FakeWithings
    puller: Puller
