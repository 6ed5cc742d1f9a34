"""Fixtures of the programme tests: a coordinator and a patient in a fresh database."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
import pytest

from hub.patients import enroll_patient
from tests.api_support import make_user


@pytest.fixture
def coordinator(conn: psycopg.Connection[Any]) -> UUID:
    return make_user(conn, "cora")


@pytest.fixture
def patient(conn: psycopg.Connection[Any]) -> UUID:
    made = enroll_patient(
        conn, pathway="CHF", discharge_date=None, identifiers=(), timezone="America/Chicago"
    )
    return made.id
