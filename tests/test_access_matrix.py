"""Coordinator A calling any id-bearing route with coordinator B's object gets 404.

The matrix is checked against the app's own route table (its OpenAPI
document, where every API route is listed): a new route with a
patient, alert, device or subscription id (or any other object id) that is
not in :data:`CALLS` fails the first test, so it cannot ship unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.service import record_detection
from api.accounts import Role
from tests.api_support import Caller, caller, detection, enroll
from tests.fakes.webpush_protocol import BrowserSubscription
from tests.test_access_admin import ADMIN_CALLS

pytestmark = pytest.mark.services

#: Path parameters that name an object someone owns.
ID_PARAMS = frozenset(
    {
        "patient_id",
        "alert_id",
        "device_id",
        "serial",
        "subscription_id",
        "gateway_id",
        "feed_id",
        "program_id",
        "entry_id",
        "record_id",
    }
)


@dataclass(frozen=True, slots=True)
class Objects:
    """What coordinator B owns."""

    patient_id: UUID
    subscription_id: int
    alert_id: int
    #: An RPM programme of the patient (consented), a TCM one, a time entry, and the
    #: record of the RPM programme's consent.
    program_id: int
    tcm_program_id: int
    entry_id: int
    record_id: int


Call = Callable[[TestClient, Objects, Caller], Any]


def _alert_action(action: str, body: dict[str, Any]) -> Call:
    def call(api: TestClient, b: Objects, a: Caller) -> Any:
        return api.post(f"/api/v1/alerts/{b.alert_id}/{action}", json=body, headers=a.headers)

    return call


def _on_patient(
    method: str, template: str, body: dict[str, Any] | None = None, *, tcm: bool = False
) -> tuple[tuple[str, str], Call]:
    """A programme route: its key, and its call on B's patient (programme, entry)."""

    def call(api: TestClient, b: Objects, a: Caller) -> Any:
        path = template.format(
            patient_id=b.patient_id,
            program_id=b.tcm_program_id if tcm else b.program_id,
            entry_id=b.entry_id,
            record_id=b.record_id,
        )
        return api.request(method, path, json=body, headers=a.headers)

    return (method, template), call


_P = "/api/v1/patients/{patient_id}"
_WORK = {"activity": "call", "interactive": True}
_DR = {"name": "Dr. Ada Example", "npi": "1234567893"}
#: In this order for B: the timer is stopped before it runs (409), the programme ended last.
PROGRAM_CALLS: dict[tuple[str, str], Call] = dict(
    [
        _on_patient("GET", f"{_P}/programs"),
        _on_patient(
            "POST", f"{_P}/programs", {"kind": "RPM", "started_on": "2026-01-01", "ordering": _DR}
        ),
        _on_patient("GET", f"{_P}/programs/{{program_id}}"),
        _on_patient(
            "POST",
            f"{_P}/programs/{{program_id}}/consent",
            {"on": "2026-01-01", "method": "verbal"},
        ),
        _on_patient(
            "POST", f"{_P}/programs/{{program_id}}/setup", {"on": "2026-01-02", "by": "RN"}
        ),
        _on_patient("POST", f"{_P}/programs/{{program_id}}/tcm", {"complexity": "high"}, tcm=True),
        _on_patient(
            "POST",
            f"{_P}/programs/{{program_id}}/contact-attempts",
            {"at": datetime.now(UTC).isoformat(), "method": "telephone"},
            tcm=True,
        ),
        _on_patient("GET", f"{_P}/programs/{{program_id}}/records"),
        _on_patient(
            "POST",
            f"{_P}/programs/{{program_id}}/records/{{record_id}}/corrections",
            {"reason": "the consent was given in writing", "method": "written"},
        ),
        _on_patient("GET", f"{_P}/time-entries"),
        _on_patient("POST", f"{_P}/time-entries", {**_WORK, "minutes": 5}),
        _on_patient(
            "POST",
            f"{_P}/time-entries/{{entry_id}}/corrections",
            {"reason": "it was education, not a call", "activity": "education"},
        ),
        _on_patient("GET", f"{_P}/care-progress"),
        _on_patient("GET", f"{_P}/month-time"),
        _on_patient("GET", f"{_P}/timer"),
        _on_patient("POST", f"{_P}/timer/stop", _WORK),
        _on_patient("POST", f"{_P}/timer/start", {}),
        _on_patient("DELETE", f"{_P}/timer"),
        _on_patient(
            "POST", f"{_P}/programs/{{program_id}}/end", {"ended_on": str(datetime.now(UTC).date())}
        ),
    ]
)


CALLS: dict[tuple[str, str], Call] = {
    ("GET", "/api/v1/patients/{patient_id}"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}", headers=a.headers
    ),
    ("PUT", "/api/v1/patients/{patient_id}/coordinators"): lambda api, b, a: api.put(
        f"/api/v1/patients/{b.patient_id}/coordinators",
        json={"coordinators": [str(a.id)]},
        headers=a.headers,
    ),
    ("GET", "/api/v1/patients/{patient_id}/readings"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/readings?measure=body-weight", headers=a.headers
    ),
    ("GET", "/api/v1/patients/{patient_id}/adherence"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/adherence", headers=a.headers
    ),
    ("GET", "/api/v1/patients/{patient_id}/thresholds"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/thresholds", headers=a.headers
    ),
    ("GET", "/api/v1/patients/{patient_id}/devices"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/devices", headers=a.headers
    ),
    ("GET", "/api/v1/alerts/{alert_id}"): lambda api, b, a: api.get(
        f"/api/v1/alerts/{b.alert_id}", headers=a.headers
    ),
    **{
        ("POST", f"/api/v1/alerts/{{alert_id}}/{action}"): _alert_action(action, body)
        for action, body in (
            ("ack", {}),
            ("resolve", {}),
            ("snooze", {"minutes": 30}),
            ("notes", {"note": "called the patient"}),
        )
    },
    ("DELETE", "/api/v1/push/subscriptions/{subscription_id}"): lambda api, b, a: api.delete(
        f"/api/v1/push/subscriptions/{b.subscription_id}", headers=a.headers
    ),
    # Every vendor cloud's connection of the patient (what the dashboard draws).
    ("GET", "/api/v1/patients/{patient_id}/vendors"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/vendors", headers=a.headers
    ),
    # Fitbit (not configured here: the connect link answers 409 to whoever may see it).
    ("GET", "/api/v1/patients/{patient_id}/fitbit/connect"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/fitbit/connect", headers=a.headers
    ),
    ("GET", "/api/v1/patients/{patient_id}/fitbit"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/fitbit", headers=a.headers
    ),
    ("DELETE", "/api/v1/patients/{patient_id}/fitbit"): lambda api, b, a: api.delete(
        f"/api/v1/patients/{b.patient_id}/fitbit", headers=a.headers
    ),
    # Withings (not configured here either).
    ("GET", "/api/v1/patients/{patient_id}/withings/connect"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/withings/connect", headers=a.headers
    ),
    ("GET", "/api/v1/patients/{patient_id}/withings"): lambda api, b, a: api.get(
        f"/api/v1/patients/{b.patient_id}/withings", headers=a.headers
    ),
    ("DELETE", "/api/v1/patients/{patient_id}/withings"): lambda api, b, a: api.delete(
        f"/api/v1/patients/{b.patient_id}/withings", headers=a.headers
    ),
    **PROGRAM_CALLS,
}


def _id_routes(api: TestClient) -> set[tuple[str, str]]:
    """Every (method, path) of the app's route table, as its OpenAPI document lists it."""
    paths: dict[str, dict[str, Any]] = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if ID_PARAMS & set(re.findall(r"{(\w+)", path))
        for method in operations
    }


def test_every_id_bearing_route_is_in_the_matrix(api: TestClient) -> None:
    # Admin-only routes answer 403 to every coordinator: tests/test_access_admin.py.
    assert _id_routes(api) == set(CALLS) | set(ADMIN_CALLS)


def test_another_coordinators_objects_answer_404_like_missing_ones(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    a = caller(api, conn, "ann")
    b = caller(api, conn, "bob")
    browser = BrowserSubscription("https://push.example.com/wpush/v2/b", "")
    keys = {"p256dh": browser.p256dh, "auth": browser.auth}
    subscribed = api.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint, "keys": keys},
        headers=b.headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    patient = enroll(api, b, "SIM-B")
    alert = record_detection(conn, detection=detection(patient), now=datetime.now(UTC))
    conn.commit()
    rpm, tcm, entry, consent = _programmes(api, b, patient)
    theirs = Objects(patient, subscribed.json()["id"], alert.alert_id, rpm, tcm, entry, consent)
    nobodys = Objects(UUID(int=1), 2**62, 2**62, 2**62, 2**62, 2**62, 2**62)
    for key, call in CALLS.items():
        for objects in (theirs, nobodys):
            got = call(api, objects, a)
            assert (got.status_code, got.json()["code"]) == (404, "not_found"), key
    for key, call in CALLS.items():
        # And B, whose object it is, is let in (the route works at all).
        answer = call(api, theirs, b)
        assert answer.status_code in (200, 201, 204, 403, 409), (key, answer.text)


def _programmes(api: TestClient, b: Caller, patient: UUID) -> tuple[int, int, int, int]:
    """B's patient's consented RPM programme (the only open one), a TCM programme (ended),
    a time entry, and the RPM programme's consent's record."""
    base = f"/api/v1/patients/{patient}"
    today = datetime.now(UTC).date()
    # Begun yesterday, so the minute logged below (ending now) is inside it at 00:00 UTC too.
    begun = today - timedelta(days=1)
    made = [
        api.post(f"{base}/programs", json=body, headers=b.headers)
        for body in (
            {"kind": "RPM", "started_on": str(begun), "ordering": _DR,
             "consent": {"on": str(begun), "method": "written"}},
            {"kind": "TCM", "ordering": _DR,
             "tcm": {"discharged_on": str(today), "setting": "inpatient"}},
        )
    ]  # fmt: skip
    assert [m.status_code for m in made] == [201, 201], made[-1].text
    rpm, tcm = made[0].json()["id"], made[1].json()["id"]
    ended = api.post(f"{base}/programs/{tcm}/end", json={"ended_on": str(today)}, headers=b.headers)
    assert ended.status_code == 200, ended.text
    entry = api.post(
        f"{base}/time-entries", json={**_WORK, "minutes": 1, "program_id": rpm}, headers=b.headers
    )
    assert entry.status_code == 201, entry.text
    consent = made[0].json()["recorded"]["consent"]["id"]
    return rpm, tcm, entry.json()["id"], consent


def test_billing_is_for_supervisors_and_admins_and_a_supervisor_sees_their_panel(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    """The billing routes name no object: they are scoped by role and panel instead. A
    coordinator gets 403; a supervisor, their own and their coordinators' patients only."""
    sue = caller(api, conn, "sue", Role.SUPERVISOR)
    tom = caller(api, conn, "tom", Role.SUPERVISOR)
    a = caller(api, conn, "ann", supervisor=sue.id)
    b = caller(api, conn, "bob", supervisor=tom.id)
    theirs = {who.username: enroll(api, who, f"SIM-{who.username}") for who in (a, b)}
    for who, patient in ((a, theirs["ann"]), (b, theirs["bob"])):
        started = api.post(
            f"/api/v1/patients/{patient}/programs",
            json={"kind": "RPM", "started_on": "2026-03-01", "ordering": _DR},
            headers=who.headers,
        )
        assert started.status_code == 201, started.text
    month = "2026-03"
    for method, path in (
        ("GET", f"/api/v1/billing?month={month}"),
        ("POST", f"/api/v1/billing/{month}/sign-off"),
    ):
        got = api.request(method, path, headers=a.headers)
        assert (got.status_code, got.json()["code"]) == (403, "forbidden"), path

    def seen(who: Caller | None) -> set[str]:
        headers = who.headers if who else {}
        got = api.get(f"/api/v1/billing?month={month}", headers=headers)
        assert got.status_code == 200, got.text
        return {row["patient_id"] for row in got.json()["rows"]}

    assert seen(sue) == {str(theirs["ann"])}
    assert seen(tom) == {str(theirs["bob"])}
    assert seen(None) == {str(theirs["ann"]), str(theirs["bob"])}  # the service token
