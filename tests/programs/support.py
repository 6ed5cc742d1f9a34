"""What the programme tests share: a valid NPI, a fixed clock, an RPM episode."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

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
