"""What the programme tests share: a valid NPI, a fixed clock, an RPM episode; for the
browser tests, a patient with a programme started through the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg

from hub.care_programs import ProgramKind
from programs.episodes import start_episode
from programs.models import Episode, Practitioner

#: CMS's worked example of the NPI check digit (123456789 → 3).
NPI = "1234567893"
DR = Practitioner(name="Dr. Ada Example", npi=NPI)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
START = date(2026, 3, 1)


def rpm(conn: psycopg.Connection[Any], patient: UUID, actor: UUID) -> Episode:
    """An RPM episode from :data:`START`, without consent."""
    return start_episode(
        conn,
        patient_id=patient,
        kind=ProgramKind.RPM,
        started_on=START,
        ordering=DR,
        conditions=["I50.22"],
        actor=actor,
        now=NOW,
    )


def api_post(origin: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    got = httpx.post(
        f"{origin}/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )  # fmt: skip
    assert got.status_code == 201, got.text
    answer: dict[str, Any] = got.json()
    return answer


def patient_with(
    origin: str, token: str, mrn: str, programme: dict[str, Any], *, timezone: str = "UTC"
) -> str:
    """A new patient in ``timezone`` with the programme started (by the API, as the page would)."""
    made = api_post(
        origin,
        token,
        "/patients",
        {"identifiers": [{"system": "urn:mrn", "value": mrn}], "timezone": timezone},
    )
    patient = str(made["id"])
    ordering = {"name": "Dr. Ada Example", "npi": NPI}
    api_post(origin, token, f"/patients/{patient}/programs", {"ordering": ordering, **programme})
    return patient
