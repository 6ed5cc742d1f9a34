"""Coordinators for API tests: users made in the database, tokens got by logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient

from api import accounts
from api.accounts import Role
from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure

PASSWORD = "correct horse battery staple"
#: UTC and UTC+12 all year (Kiribati's Gilbert Islands): at any instant it is between
#: 06:00 and 18:00 in one of them.
_TWELVE_HOURS_APART = ("UTC", "Pacific/Tarawa")


@dataclass(frozen=True, slots=True)
class Caller:
    """A user and the headers that carry their bearer token."""

    id: UUID
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(
    conn: psycopg.Connection[Any],
    username: str,
    role: Role = Role.COORDINATOR,
    *,
    supervisor: UUID | None = None,
) -> UUID:
    user = accounts.create_user(
        conn,
        username=username,
        password=PASSWORD,
        role=role,
        now=datetime.now(UTC),
        supervisor_id=supervisor,
    )
    conn.commit()
    return user.id


def login(api: TestClient, username: str, password: str = PASSWORD) -> str:
    got = api.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert got.status_code == 200, got.text
    return str(got.json()["access_token"])


def caller(
    api: TestClient,
    conn: psycopg.Connection[Any],
    username: str,
    role: Role = Role.COORDINATOR,
    *,
    supervisor: UUID | None = None,
) -> Caller:
    user_id = make_user(conn, username, role, supervisor=supervisor)
    return Caller(user_id, username, login(api, username))


def daytime_zone(now: datetime) -> str:
    """A time zone where it is between 06:00 and 18:00 at ``now``.

    For tests on the real clock (the API's): a patient there has the minutes logged just
    now and a programme begun yesterday or today on their own calendar as the test
    expects, in the same month, at whatever hour the test runs (just after midnight UTC
    on the 1st of a month too).

    >>> daytime_zone(datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
    'Pacific/Tarawa'
    >>> daytime_zone(datetime(2027, 1, 31, 12, 0, tzinfo=UTC))
    'UTC'
    """
    return next(z for z in _TWELVE_HOURS_APART if 6 <= now.astimezone(ZoneInfo(z)).hour < 18)


def enroll(api: TestClient, who: Caller, mrn: str, *, timezone: str = "UTC") -> UUID:
    """A patient enrolled by ``who`` (so on their panel)."""
    made = api.post(
        "/api/v1/patients",
        json={"identifiers": [{"system": "urn:mrn", "value": mrn}], "timezone": timezone},
        headers=who.headers,
    )
    assert made.status_code == 201, made.text
    return UUID(made.json()["id"])


def detection(
    patient_id: UUID, severity: Severity = Severity.MEDIUM, kind: AlertKind = AlertKind.WEIGHT_GAIN
) -> Detection:
    """A simulated weight-gain detection for the patient (values are made up)."""
    now = datetime.now(UTC)
    return Detection(
        patient_id=patient_id,
        kind=kind,
        severity=severity,
        source="model:weight_drift",
        measure=Measure.BODY_WEIGHT,
        observed={"weight": 84.0},
        baseline={"level": 81.5},
        window_start=now - timedelta(days=5),
        window_end=now,
        reason="Daily weight 84.0 kg has crept 2.5 kg above the personal baseline.",
    )
