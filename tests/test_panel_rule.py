"""The panel rule, written once (migration 0027's ``visible_patients``) and read by every
query that asks who sees what: who sees whom, and that PostgreSQL inlines it where it is
read (no Function Scan), so that a panel is planned as the few patients it is (the
worklist's p95 depends on it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest

from api import accounts
from api.accounts import Principal, Role
from hub.patients import enroll_patient
from hub.sql import queries
from tests.api_support import make_user
from tests.billing_export.support import home, reading

pytestmark = pytest.mark.services

Conn = psycopg.Connection[Any]
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _patient(conn: Conn, *coordinators: UUID) -> UUID:
    made = enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=(), timezone="UTC")
    accounts.assign_coordinators(
        conn, patient_id=made.id, user_ids=coordinators, now=NOW, replace=False
    )
    return made.id


def test_coordinators_see_their_patients_and_supervisors_their_teams(conn: Conn) -> None:
    sue = make_user(conn, "sue", Role.SUPERVISOR)
    sam = make_user(conn, "sam", Role.SUPERVISOR)
    cora = make_user(conn, "cora", supervisor=sue)
    cody = make_user(conn, "cody", supervisor=sue)
    carl = make_user(conn, "carl", supervisor=sam)
    ada = make_user(conn, "ada", Role.ADMIN)
    a, b = _patient(conn, cora), _patient(conn, carl)
    shared = _patient(conn, cora, cody, carl)  # on two of Sue's coordinators' panels
    own = _patient(conn, sue)  # a supervisor may hold a panel too
    nobodys = _patient(conn)
    roles = {sue: Role.SUPERVISOR, sam: Role.SUPERVISOR, cora: Role.COORDINATOR,
             cody: Role.COORDINATOR, carl: Role.COORDINATOR, ada: Role.ADMIN}  # fmt: skip
    expected = {
        cora: {a, shared},
        cody: {shared},
        carl: {b, shared},
        sue: {a, shared, own},
        sam: {b, shared},
        ada: {a, b, shared, own, nobodys},
    }
    for user, sees in expected.items():
        who = Principal(user_id=user, username="x", role=roles[user])
        listed = accounts.visible_patient_ids(conn, principal=who, limit=100)
        assert sorted(listed) == sorted(sees)  # each once
        for patient in (a, b, shared, own, nobodys):
            visible = accounts.patient_visible(conn, principal=who, patient_id=patient)
            assert visible is (patient in sees)


def _plans(conn: Conn, params: dict[str, Any]) -> dict[str, str]:
    names = ("patient_visible", "visible_patient_ids", "visible_alerts", "worklist_panel",
             "billing_scope_patients", "billing_scope_count", "billing_sensed_days")  # fmt: skip
    return {
        name: "\n".join(r[0] for r in conn.execute("EXPLAIN " + queries[name], params))
        for name in names
    }


@pytest.mark.parametrize("everyone", [False, True])
def test_every_query_that_reads_the_rule_has_it_inlined(conn: Conn, everyone: bool) -> None:
    cora = make_user(conn, "cora")
    # A reading in the window, so that the readings' chunk is not planned away.
    cuff = home(conn, mrn="SIM-1", tz="UTC", coordinator=cora, serials=("C-1",))
    reading(conn, cuff.patient, cuff.devices["C-1"], NOW)
    params = {
        "all": everyone, "user_id": None if everyone else cora, "patient_id": UUID(int=1),
        "limit": 10, "status": "unresolved", "now": NOW, "cutoff": 0.5,
        "after": UUID(int=0), "first": date(2026, 3, 1), "utc_from": NOW,
        "utc_to": datetime(2026, 4, 1, tzinfo=UTC),
    }  # fmt: skip
    plans = _plans(conn, params)
    assert [name for name, plan in plans.items() if "Function Scan" in plan] == []
    # The tables the rule reads are in each plan; an admin's needs no assignments.
    for name, plan in plans.items():
        assert ("patient_coordinators" in plan) is (not everyone), name
