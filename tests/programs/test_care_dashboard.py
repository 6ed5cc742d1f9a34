"""The patient page's care progress in a real browser: the transitional-care clock with
its overdue deadlines, and the RPM period and month ("days 0 of 16", "minutes 14 of 20")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import sync_playwright

from hub.settings import Settings
from tests.api_support import PASSWORD, daytime_zone, make_user
from tests.dashboard_support import (
    ARTIFACTS,
    bearer_token,
    launch_chromium,
    live_app,
    patient_page,
)
from tests.programs.support import NPI, api_post

pytestmark = pytest.mark.services


def test_the_patient_page_shows_the_tcm_clock_and_the_period_and_month(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    make_user(conn, "cora")
    with live_app(settings) as origin, sync_playwright() as playwright:
        token = bearer_token(origin, "cora", PASSWORD)
        # Where it is day now: the minutes logged just now are in the patient's month.
        now = datetime.now(UTC)
        zone = daytime_zone(now)
        mrn = {"identifiers": [{"system": "urn:mrn", "value": "SIM-C1"}], "timezone": zone}
        patient = api_post(origin, token, "/patients", mrn)["id"]
        today = now.astimezone(ZoneInfo(zone)).date()
        ordering = {"name": "Dr. Ada Example", "npi": NPI}
        api_post(origin, token, f"/patients/{patient}/programs",
              {"kind": "TCM", "ordering": ordering,
               "tcm": {"discharged_on": str(today - timedelta(days=10)), "setting": "inpatient",
                       "complexity": "moderate"}})  # fmt: skip
        api_post(origin, token, f"/patients/{patient}/programs",
              {"kind": "RPM", "started_on": str(today - timedelta(days=1)), "ordering": ordering,
               "consent": {"on": str(today - timedelta(days=1)), "method": "verbal"}})  # fmt: skip
        rpm_id = conn.execute("SELECT id FROM program_episodes WHERE kind = 'RPM'").fetchone()
        assert rpm_id is not None
        api_post(origin, token, f"/patients/{patient}/time-entries",
              {"program_id": rpm_id[0], "activity": "call", "interactive": True,
               "minutes": 14})  # fmt: skip
        browser = launch_chromium(playwright)
        errors: list[str] = []
        try:
            page = patient_page(browser, origin, token, patient, errors)
            section = page.locator("section.patient-care")
            section.locator("li.tcm-clock").first.wait_for()
            clocks = section.locator("li.tcm-clock")
            # Ten days after the discharge the contact (2 business days) is overdue; the
            # moderate-complexity visit (14 days) is still open.
            assert [clocks.nth(i).get_attribute("data-status") for i in range(2)] == [
                "overdue",
                "open",
            ]
            assert "(overdue " in clocks.nth(0).inner_text()
            assert "TCM face-to-face visit" in clocks.nth(1).inner_text()
            assert " left)" in clocks.nth(1).inner_text()
            assert section.locator(".progress-days").inner_text() == "days 0 of 16 (99454), 29 left"
            assert section.locator(".progress-minutes").inner_text() == "minutes 14 of 20 (99457)"
            assert section.locator(".progress-contact").inner_text() == "interactive contact yes"
            page.screenshot(path=str(ARTIFACTS / "care-progress.png"), full_page=True)
            # The worklist flags the overdue contact on the patient's row.
            page.goto(f"{origin}/app/#worklist")
            badge = page.locator(f"li.wl-row[data-patient-id='{patient}'] .badge.deadline")
            assert badge.text_content() == "TCM interactive contact overdue"
            assert errors == []
        finally:
            browser.close()
