"""Coordinators for API tests: users made in the database, tokens got by logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from fastapi.testclient import TestClient

from api import accounts
from api.accounts import Role
from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure

PASSWORD = "correct horse battery staple"


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


def enroll(api: TestClient, who: Caller, mrn: str) -> UUID:
    """A patient enrolled by ``who`` (so on their panel)."""
    made = api.post(
        "/api/v1/patients",
        json={"identifiers": [{"system": "urn:mrn", "value": mrn}]},
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
