"""For the dashboard's browser test: the real app on loopback, a small made-up panel, Chromium.

Everything here is simulated: ``SIM-*`` identifiers on a ``urn:lastmile:sim``
system, readings of a pattern drawn up below, alerts recorded the way the
ingest worker records them (:func:`alerts.service.record_detection`).
"""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from alerts.service import record_detection
from api import accounts
from api.app import create_app
from devices import service as devices
from hub import patients
from hub.alerting import AlertKind, Detection, Severity
from hub.domain import DeviceKind, Measure
from hub.settings import PROJECT_ROOT, Settings
from tests.support import wait_until

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing that reaches out to the internet on its own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SYSTEM = "urn:lastmile:sim"


@contextmanager
def live_app(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on a free loopback port; yields its origin."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_config=None, log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started, timeout=20), "the app did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Dashboard:
    """The dashboard served on loopback, in a Chromium context logged in as the admin."""

    origin: str
    token: str
    context: BrowserContext
    #: The pages' uncaught script errors (a test expects none).
    errors: list[str] = field(default_factory=list)

    def open_patient(self, patient: object) -> Page:
        """A patient's page in a tab of its own (no navigation interrupts another tab's)."""
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(f"{self.origin}/app/")
        page.evaluate("(t) => sessionStorage.setItem('lastmile.token', t)", self.token)
        page.goto(f"{self.origin}/app/#patient/{patient}")
        page.reload()
        return page


@contextmanager
def dashboard(settings: Settings) -> Iterator[Dashboard]:
    """The real app on loopback and a headless Chromium context for it."""
    with live_app(settings) as origin, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(ignore_https_errors=True)
            context.set_default_timeout(15_000)
            yield Dashboard(origin, settings.admin_token.get_secret_value(), context)
        finally:
            browser.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium (installed by ``lastmile services up --test-tools``)."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install the test tools with "
        "`lastmile services up --test-tools` (scripts/test does)"
    )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
    )


def bearer_token(origin: str, username: str, password: str) -> str:
    """A user's token from the live app's login route."""
    got = httpx.post(
        f"{origin}/api/v1/auth/token", data={"username": username, "password": password},
        timeout=10,
    )  # fmt: skip
    assert got.status_code == 200, got.text
    return str(got.json()["access_token"])


def patient_page(
    browser: Browser, origin: str, token: str, patient: str, errors: list[str]
) -> Page:
    """A tab of its own (its own sessionStorage: logged in on its own) on the patient page;
    page errors are added to ``errors``."""
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{origin}/app/")
    page.evaluate("(t) => sessionStorage.setItem('lastmile.token', t)", token)
    page.goto(f"{origin}/app/#patient/{patient}")
    page.reload()
    return page


@dataclass
class Panel:
    """What the test made: the coordinator's patients and alerts, and a stranger's."""

    patients: dict[str, UUID] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    #: Days (per measure) with readings in the last 30 days, of SIM-ALPHA.
    alpha_days: int = 0
    #: The same over 90 days.
    alpha_days_90: int = 0


#: A reading to write: when, what, value, value2 (diastolic), unit.
Row = tuple[datetime, Measure, float, float | None, str]

_COLUMNS = (
    "measured_at, device_id, measure, patient_id, value, value2, unit, original_value,"
    " original_value2, original_unit, modality, schema_version, header_id, received_at"
)


def _write_readings(
    conn: psycopg.Connection[Any],
    *,
    patient_id: UUID,
    device_id: int,
    rows: list[Row],
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO readings ({_COLUMNS}) VALUES"  # noqa: S608 (constant columns)
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'sensed', '2.0', %s, %s)",
            [
                (at, device_id, m.value, patient_id, v, v2, unit, v, v2, unit, f"h-{m}-{at}", at)
                for at, m, v, v2, unit in rows
            ],
        )


def _enroll(
    conn: psycopg.Connection[Any],
    *,
    mrn: str,
    pathway: str,
    discharged_days_ago: int,
    coordinator: UUID,
    now: datetime,
    overrides: dict[str, float | int | str] | None = None,
) -> tuple[UUID, int]:
    """A patient on ``coordinator``'s panel with one multi-measure device; (id, device id)."""
    patient = patients.enroll_patient(
        conn,
        pathway=pathway,
        discharge_date=(now - timedelta(days=discharged_days_ago)).date(),
        identifiers=[patients.Identifier(system=SYSTEM, value=mrn)],
        threshold_overrides=overrides,
    )
    accounts.assign_coordinators(
        conn, patient_id=patient.id, user_ids=[coordinator], now=now, replace=False
    )
    gateway = devices.new_gateway_id()
    devices.create_gateway(conn, gateway_id=gateway, label=f"{mrn} home")
    device = devices.create_device(
        conn, serial=f"{mrn}-M1", kind=DeviceKind.MULTI, gateway_id=gateway, patient_id=patient.id
    )
    return patient.id, device.id


def _alert(
    conn: psycopg.Connection[Any],
    *,
    patient_id: UUID,
    kind: AlertKind,
    severity: Severity,
    measure: Measure,
    at: datetime,
    reason: str,
) -> int:
    detection = Detection(
        patient_id=patient_id,
        kind=kind,
        severity=severity,
        source=f"rule:{kind.value}",
        measure=measure,
        observed={"value": 1.0},
        baseline={"limit": 1.0},
        window_start=at - timedelta(days=3),
        window_end=at,
        reason=reason,
    )
    return record_detection(conn, detection=detection, now=at).alert_id


def _alpha_rows(now: datetime) -> tuple[list[Row], int, int]:
    """28 daily readings of every measure (blood pressure twice a day), a weight gain
    in the last three days, and four weighings further back; (rows, days in 30, in 90)."""
    rows: list[Row] = []
    recent = range(28)
    # Whole UTC days before today (08:00 and 20:00), so that a day's two blood
    # pressures share its daily bucket whatever the time the test runs.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for k in recent:
        at = midnight - timedelta(days=k + 1) + timedelta(hours=8)
        wobble = math.sin(k * 1.3)
        weight = {0: 82.6, 1: 82.0, 2: 81.2}.get(k, 80.0 + 0.2 * wobble)
        rows += [
            (at, Measure.BODY_WEIGHT, weight, None, "kg"),
            (at, Measure.BLOOD_PRESSURE, 128 + 4 * wobble, 79 + 3 * wobble, "mmHg"),
            (at + timedelta(hours=12), Measure.BLOOD_PRESSURE, 134 + 3 * wobble, 83.0, "mmHg"),
            (at, Measure.OXYGEN_SATURATION, round(95.5 + wobble), None, "%"),
            (at, Measure.HEART_RATE, round(72 + 4 * wobble), None, "beats/min"),
        ]
    older = (35, 50, 65, 80)
    for k in older:
        rows.append((now - timedelta(days=k, hours=1), Measure.BODY_WEIGHT, 79.5, None, "kg"))
    return rows, len(recent), len(recent) + len(older)


#: SIM-ALPHA's own limits: a new key and an old name (stored as the new one).
ALPHA_OVERRIDES: dict[str, float | int | str] = {
    "limits.oxygen-saturation.low": 86,
    "systolic_high": 170,
}


def seed_panel(conn: psycopg.Connection[Any], *, coordinator: UUID, stranger: UUID) -> Panel:
    """Three patients for ``coordinator`` (two with alerts), one with a critical alert for
    ``stranger`` that the coordinator must never see."""
    now = datetime.now(UTC)
    panel = Panel()
    device_ids: dict[str, int] = {}
    for mrn, pathway, discharged, who in (
        ("SIM-ALPHA", "CHF", 6, coordinator),
        ("SIM-BRAVO", "COPD", 3, coordinator),
        ("SIM-CHARLIE", "HTN", 12, coordinator),
        ("SIM-ZULU", "CHF", 1, stranger),
    ):
        panel.patients[mrn], device_ids[mrn] = _enroll(
            conn,
            mrn=mrn,
            pathway=pathway,
            discharged_days_ago=discharged,
            coordinator=who,
            now=now,
            overrides=ALPHA_OVERRIDES if mrn == "SIM-ALPHA" else None,
        )
    rows, panel.alpha_days, panel.alpha_days_90 = _alpha_rows(now)
    charlie: list[Row] = [
        (now - timedelta(days=k, hours=2), Measure.BLOOD_PRESSURE, 150.0 + k, 95.0, "mmHg")
        for k in range(10)
    ]
    for mrn, readings in (("SIM-ALPHA", rows), ("SIM-CHARLIE", charlie)):
        _write_readings(
            conn, patient_id=panel.patients[mrn], device_id=device_ids[mrn], rows=readings
        )
    alerts = (
        ("SIM-ALPHA", AlertKind.WEIGHT_GAIN, Severity.HIGH, Measure.BODY_WEIGHT,
         timedelta(days=1, minutes=30), "Weight up 2.6 kg in 72 h (limit 2.0 kg)."),
        ("SIM-CHARLIE", AlertKind.BP_HIGH, Severity.MEDIUM, Measure.BLOOD_PRESSURE,
         timedelta(days=3), "Systolic pressure has crept above the personal baseline."),
        ("SIM-ZULU", AlertKind.SPO2_LOW, Severity.CRITICAL, Measure.OXYGEN_SATURATION,
         timedelta(hours=2), "SpO2 84 % (limit 88 %)."),
    )  # fmt: skip
    for mrn, kind, severity, measure, ago, reason in alerts:
        panel.alerts[mrn] = _alert(
            conn,
            patient_id=panel.patients[mrn],
            kind=kind,
            severity=severity,
            measure=measure,
            at=now - ago,
            reason=reason,
        )
    conn.commit()
    return panel
