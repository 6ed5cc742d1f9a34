"""The transitional-care clock and the care progress through the API: the worklist's
deadlines, a recorded contact that resolves its missed alert in the same request, and
the patient page's ``care-progress``.

The API runs on the real clock, so the dates here are relative to today (a discharge
ten days ago: both deadlines have passed, whatever the weekdays and holidays), and the
RPM patient lives where it is day now (``daytime_zone``), so that the minutes just logged
are in their month at any hour of the run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.schemas_care import CareProgressOut
from api.schemas_worklist import WorklistOut
from flows.tcm_alerts import run_tcm_checks
from tests.api_support import caller, daytime_zone, enroll
from tests.care_support import DR

pytestmark = pytest.mark.services


def test_overdue_deadlines_lead_the_worklist_and_a_recorded_contact_resolves_its_alert(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    who = enroll(api, ann, "TCM-1")
    calm = enroll(api, ann, "CALM")
    base = f"/api/v1/patients/{who}"
    discharged = datetime.now(UTC).date() - timedelta(days=10)
    made = api.post(
        f"{base}/programs",
        json={"kind": "TCM", "ordering": {"name": DR.name, "npi": DR.npi},
              "tcm": {"discharged_on": str(discharged), "setting": "inpatient"}},
        headers=ann.headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert run_tcm_checks(conn, now=datetime.now(UTC)) == 2
    conn.commit()

    body = api.get("/api/v1/worklist", headers=ann.headers).json()
    WorklistOut.model_validate(body)
    assert [row["patient_id"] for row in body["patients"]] == [str(who), str(calm)]
    top = body["patients"][0]
    assert [(d["name"], d["pressing"], d["left_hours"] < 0) for d in top["deadlines"]] == [
        ("TCM interactive contact", True, True),
        ("TCM face-to-face visit", True, True),
    ]
    assert top["reasons"][0].startswith("TCM interactive contact overdue")
    assert top["alerts"]["medium"] == 2
    assert top["notices"] == []

    contact = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    recorded = api.post(
        f"{base}/programs/{made.json()['id']}/tcm",
        json={"first_contact_at": contact},
        headers=ann.headers,
    )
    assert recorded.status_code == 200, recorded.text
    states = conn.execute("SELECT kind, status FROM alerts ORDER BY kind").fetchall()
    assert states == [("tcm_contact_missed", "resolved"), ("tcm_visit_missed", "open")]
    top = api.get("/api/v1/worklist", headers=ann.headers).json()["patients"][0]
    assert [d["name"] for d in top["deadlines"]] == ["TCM face-to-face visit"]

    got = api.get(f"{base}/care-progress", headers=ann.headers)
    assert got.status_code == 200, got.text
    progress = CareProgressOut.model_validate(got.json())
    assert progress.programs == []
    (tcm,) = progress.tcm
    assert (tcm.discharged_on, tcm.period_ends) == (discharged, discharged + timedelta(days=29))
    assert [(c.name, c.status) for c in tcm.clocks] == [
        ("TCM interactive contact", "met_late"),
        ("TCM face-to-face visit", "overdue"),
    ]


def test_care_progress_shows_the_period_and_the_month_of_an_rpm_episode(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    who = enroll(api, ann, "RPM-1", timezone=zone)
    base = f"/api/v1/patients/{who}"
    # Begun yesterday on the patient's calendar. It is day there, so the 14 minutes
    # logged below (ending now) are on the patient's today, in their month.
    today = now.astimezone(ZoneInfo(zone)).date()
    start = today - timedelta(days=1)
    made = api.post(
        f"{base}/programs",
        json={"kind": "RPM", "started_on": str(start), "ordering": {"name": DR.name, "npi": DR.npi},
              "consent": {"on": str(start), "method": "verbal"}},
        headers=ann.headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    logged = api.post(
        f"{base}/time-entries",
        json={"activity": "call", "interactive": True, "minutes": 14},
        headers=ann.headers,
    )
    assert logged.status_code == 201, logged.text
    body = api.get(f"{base}/care-progress", headers=ann.headers).json()
    (rpm,) = CareProgressOut.model_validate(body).programs
    assert rpm.period is not None
    assert rpm.month is not None
    # Day 2 of the period, no reading yet: 0 of 16 with 29 days left.
    assert (rpm.period.days, rpm.period.target_days, rpm.period.days_left) == (0, 16, 29)
    assert (rpm.month.month, rpm.month.minutes, rpm.month.next_at) == (f"{today:%Y-%m}", 14, 20)
    assert (rpm.month.interactive, rpm.month.codes) == (True, ["99470"])
    # The programme table's "this month": the same month and minutes.
    month = api.get(f"{base}/month-time", headers=ann.headers)
    assert month.status_code == 200, month.text
    assert month.json() == {
        "month": f"{today:%Y-%m}",
        "time_zone": zone,
        "programs": [{"program_id": made.json()["id"], "kind": "RPM", "minutes": 14}],
    }
