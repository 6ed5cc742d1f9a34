"""Helpers of the Fitbit tests: a patient connected through the real OAuth flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import psycopg
from fastapi.testclient import TestClient

from tests.fakes.fitbit_api import FakeFitbit, FakeUser
from tests.fakes.tls import client_context
from tests.support import count

TIMEZONE = "America/Chicago"


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(TIMEZONE)).date()


def sample_user(user_id: str = "7QX9KZ") -> FakeUser:
    """Two weights (an Aria scale's, one typed in), SpO2 and resting heart rate of the last days.

    Today's summaries exist at Fitbit but are not over yet: the hub must not send them.
    """
    today = local_today()
    d1, d2 = today - timedelta(days=1), today - timedelta(days=2)
    return FakeUser(
        user_id=user_id,
        timezone=TIMEZONE,
        weights=[
            {
                "bmi": 27.1,
                "date": d2.isoformat(),
                "logId": 1700000000001,
                "source": "Aria",
                "time": "07:12:09",
                "weight": 84.6,
                "fat": 24.2,
            },
            {
                "bmi": 27.3,
                "date": d1.isoformat(),
                "logId": 1700000000002,
                "source": "Web",
                "time": "21:40:00",
                "weight": 85.2,
            },
        ],
        spo2={d2: (95.4, 91.0, 99.0), d1: (94.8, 90.0, 98.5), today: (96.0, 93.0, 99.0)},
        resting={d2: 63, d1: 66, today: 64},
    )


@dataclass(frozen=True)
class Connected:
    patient_id: UUID
    user_id: str


def enroll(api: TestClient) -> UUID:
    made = api.post("/api/v1/patients", json={"pathway": "CHF"})
    assert made.status_code == 201, made.text
    return UUID(made.json()["id"])


def authorize(api: TestClient, fake: FakeFitbit, patient_id: UUID) -> dict[str, str]:
    """The coordinator's connect link, followed in the patient's browser: the callback's query."""
    link = api.get(f"/api/v1/patients/{patient_id}/fitbit/connect")
    assert link.status_code == 200, link.text
    with httpx.Client(verify=client_context(fake.ca_file)) as browser:
        consent = browser.get(link.json()["authorize_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    return {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}


def connect(api: TestClient, fake: FakeFitbit, user: FakeUser | None = None) -> Connected:
    """Enroll a patient and connect a Fitbit account through the OAuth flow."""
    user = fake.add_user(user or sample_user())
    patient_id = enroll(api)
    fake.approve_as(user.user_id)
    back = api.get(
        "/api/v1/fitbit/callback", params=authorize(api, fake, patient_id), follow_redirects=False
    )
    assert back.status_code == 303, back.text
    assert back.headers["Location"] == f"/#patient/{patient_id}"
    return Connected(patient_id, user.user_id)


def fitbit_readings(conn: psycopg.Connection[Any], patient_id: UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT measure, value, modality, descriptive_statistic FROM readings"
        " WHERE patient_id = %s ORDER BY measure, measured_at",
        (patient_id,),
    ).fetchall()


def stored(conn: psycopg.Connection[Any], patient_id: UUID) -> int:
    return count(conn, "SELECT count(*) FROM readings WHERE patient_id = %s", patient_id)


def status_of(conn: psycopg.Connection[Any], patient_id: UUID) -> str:
    row = conn.execute(
        "SELECT status FROM vendor_connections WHERE vendor = 'fitbit' AND patient_id = %s",
        (patient_id,),
    ).fetchone()
    assert row is not None
    return str(row[0])
