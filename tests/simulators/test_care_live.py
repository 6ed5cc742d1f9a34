"""Simulated nurses record a cohort's programmes and time through the real API, once.

Against the real API (a test client, or uvicorn for the command line) and
the real database: what the rows say, not what the client was answered.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.accounts import Role
from hub.care_programs import ProgramKind
from hub.settings import Settings
from programs.codes import npi_valid
from simulators.care import CareCounts, care_team, provision_care
from simulators.care_models import DeviceOutlook
from simulators.care_outlook import device_forecast, device_outlook
from simulators.care_plan import plan_care
from simulators.cli import simulate
from simulators.cohort import build_cohort
from simulators.exceptions import ProvisioningError
from simulators.provision import provision_cohort
from simulators.publisher import run_simulation
from tests.api_support import caller, make_user
from tests.conftest import RunningWorker
from tests.support import count, wait_until

pytestmark = pytest.mark.services


def test_nurses_record_the_plan_through_the_api_and_a_second_run_adds_nothing(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    sue = make_user(conn, "sue", Role.SUPERVISOR)
    ann = caller(api, conn, "ann", supervisor=sue)
    cohort = build_cohort(20, seed=0, end=datetime.now(UTC).replace(microsecond=0), prefix="c0")
    plan = plan_care(cohort)
    token = settings.admin_token.get_secret_value()
    with care_team(
        prefix=cohort.prefix, api_url="", admin_token=token, supervisor_of="ann", client=api
    ) as team:
        provisioned = provision_cohort(
            cohort, api_url="", admin_token=token, client=api, coordinators=["ann", *team.usernames]
        )
        first = provision_care(plan, provisioned, team=team, api_url="", client=api)
        again = provision_care(plan, provisioned, team=team, api_url="", client=api)
    planned_episodes = sum(len(p.episodes) for p in plan.patients)
    planned_entries = sum(len(p.entries) for p in plan.patients)
    assert first == CareCounts(planned_episodes, 0, planned_entries, 0)
    assert again == CareCounts(0, planned_episodes, 0, planned_entries)

    # The nurses: coordinators on ann's supervisor's team, on every patient's panel.
    nurses = dict(
        conn.execute(
            "SELECT id, username FROM users WHERE username IN (%s, %s) AND role = 'coordinator'"
            " AND supervisor_id = %s",
            (*team.usernames, sue),
        ).fetchall()
    )
    assert sorted(nurses.values()) == ["c0-rn1", "c0-rn2"]
    assert len(api.get("/api/v1/patients", headers=ann.headers).json()) == 20
    # Their tokens were revoked when the team was done.
    revoked = api.get(
        "/api/v1/patients", headers={"Authorization": f"Bearer {team.nurses[0].token}"}
    )
    assert revoked.status_code == 401

    # The programmes: counts by kind as planned, once each.
    kinds = Counter(dict(conn.execute("SELECT kind, count(*) FROM program_episodes GROUP BY kind")))
    assert kinds == {
        "RPM": 18,
        "CCM": sum(bool(p.episode(ProgramKind.CCM)) for p in plan.patients),
        "TCM": 4,
    }
    # What is recorded of each (migration 0028's program_records; nothing corrected here).
    rows = conn.execute(
        "SELECT e.kind, e.ordering_npi, e.conditions, c.on_date, c.recorded_by, s.on_date,"
        " s.performer, e.started_on FROM program_episodes e"
        " LEFT JOIN program_records c ON c.episode_id = e.id AND c.fact = 'consent'"
        " LEFT JOIN program_records s ON s.episode_id = e.id AND s.fact = 'setup'"
    ).fetchall()
    assert all(npi_valid(npi) for _, npi, *_ in rows)
    assert {npi for _, npi, *_ in rows} <= {p.npi for p in plan.practitioners}
    assert all(len(conditions) >= 2 for kind, _, conditions, *_ in rows if kind == "CCM")
    rpm = [r for r in rows if r[0] == "RPM"]
    consented = [r for r in rpm if r[3] is not None]
    assert len(consented) == 16
    assert all(r[3] == r[5] == r[7] and r[4] in nurses for r in consented)
    assert {r[6] for r in consented} <= {"Simulated nurse 1", "Simulated nurse 2"}
    assert all(r[5] is None for r in rpm if r[3] is None)  # awaiting consent: no set-up
    tcm = conn.execute(
        "SELECT e.discharged_on, x.complexity, c.at_time, f.on_date FROM program_episodes e"
        " LEFT JOIN program_records x ON x.episode_id = e.id AND x.fact = 'complexity'"
        " LEFT JOIN program_records c ON c.episode_id = e.id AND c.fact = 'contact'"
        " LEFT JOIN program_records f ON f.episode_id = e.id AND f.fact = 'face_to_face'"
        " WHERE e.kind = 'TCM' ORDER BY e.discharged_on"
    ).fetchall()
    assert sum(r[2] is None for r in tcm) == 2  # the contact still due, and the one overdue
    assert sum(r[3] is not None for r in tcm) == 1
    assert {r[1] for r in tcm} == {"high", "moderate"}

    # The time: every planned entry once, logged by a nurse, toward an episode of the patient.
    assert count(conn, "SELECT count(*) FROM time_entries") == planned_entries
    by = Counter(r[0] for r in conn.execute("SELECT coordinator_id FROM time_entries").fetchall())
    assert set(by) == set(nurses)
    assert count(conn, "SELECT count(*) FROM time_entries WHERE interactive") > 0
    assert (
        count(
            conn,
            "SELECT count(*) FROM time_entries t JOIN program_episodes e ON e.id = t.episode_id"
            " WHERE (t.started_at AT TIME ZONE 'UTC')::date < e.started_on OR t.source <> 'manual'",
        )
        == 0
    )
    # Re-provisioning the cohort itself is refused, as before: its patients exist.
    with pytest.raises(ProvisioningError, match="409"):
        provision_cohort(cohort, api_url="", admin_token=token, client=api)
    assert count(conn, "SELECT count(*) FROM patients") == 20


def test_the_stored_readings_put_each_rpm_period_where_the_plan_says(
    settings: Settings, live_api: str, conn: psycopg.Connection[Any], worker: RunningWorker
) -> None:
    cohort = build_cohort(20, seed=0, end=datetime.now(UTC).replace(microsecond=0), prefix="d0")
    plan = plan_care(cohort)
    token = settings.admin_token.get_secret_value()
    with care_team(prefix=cohort.prefix, api_url=live_api, admin_token=token) as team:
        provisioned = provision_cohort(
            cohort, api_url=live_api, admin_token=token, coordinators=team.usernames
        )
        provision_care(plan, provisioned, team=team, api_url=live_api)
    stats = run_simulation(
        cohort, provisioned, host=settings.mqtt_host, port=settings.mqtt_port, speed=0
    )
    assert wait_until(
        lambda: count(conn, "SELECT count(*) FROM readings") == stats.valid_points, timeout=60
    )
    today = plan.now.date()
    shown: Counter[DeviceOutlook] = Counter()
    for care in plan.patients:
        rpm = care.episode(ProgramKind.RPM)
        if care.device is None or rpm is None:
            continue
        days = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT (measured_at AT TIME ZONE 'UTC')::date FROM readings"
                " WHERE patient_id = %s AND modality = 'sensed'",
                (provisioned.gateways[care.gateway_key].patient_id,),
            )
        ]
        stored = device_outlook(device_forecast(days, start=rpm.started_on, today=today))
        assert stored is care.device, care.gateway_key
        shown[stored] += 1
    assert set(shown) == set(DeviceOutlook)


def _run(live_api: str, settings: Settings, *extra: str, env: dict[str, str]) -> str:
    args = [
        "--patients", "4", "--days", "3", "--speed", "0", "--no-pharmacy", "--prefix", "cli0",
        "--api-url", live_api, "--admin-token", settings.admin_token.get_secret_value(),
        "--mqtt-host", settings.mqtt_host, "--mqtt-port", str(settings.mqtt_port), *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(simulate, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_lastmile_simulate_records_care_and_says_what_the_month_shows(
    settings: Settings, live_api: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    make_user(conn, "ann")
    out = _run(live_api, settings, "--coordinator", "ann", env=_env(tmp_path, "development"))
    assert "simulated nurses cli0-rn1, cli0-rn2 recorded" in out
    [line] = [x for x in out.splitlines() if x.startswith("care at ")]
    assert all(word in line for word in ("billable", "reachable", "lost", "TCM: 1 contact due"))
    assert count(conn, "SELECT count(*) FROM program_episodes WHERE kind = 'RPM'") == 4
    assert count(conn, "SELECT count(*) FROM time_entries") > 0


def test_in_production_the_simulator_records_no_care(
    settings: Settings, live_api: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    out = _run(live_api, settings, env=_env(tmp_path, "production"))
    assert "not simulated in production" in out
    assert count(conn, "SELECT count(*) FROM patients") == 4
    for table in ("program_episodes", "time_entries", "users"):
        assert count(conn, f"SELECT count(*) FROM {table}") == 0  # noqa: S608


def _env(data_dir: Path, environment: str) -> dict[str, str]:
    """What ``load_settings`` reads in the command: the environment, strong secrets."""
    strong = "s3cret-enough-for-production"
    return {
        "LASTMILE_ENVIRONMENT": environment,
        "LASTMILE_DATA_DIR": str(data_dir),
        "LASTMILE_PG_PASSWORD": strong,
        "LASTMILE_MQTT_ADMIN_PASSWORD": strong,
        "LASTMILE_MQTT_HUB_PASSWORD": strong,
        "LASTMILE_ADMIN_TOKEN": strong,
    }
