"""The patient page's programmes and timer in a real browser: the timer outlives a reload
and is the same in a second tab; stopping it in one logs one entry, and the other tab's
stale Stop logs nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hub.settings import Settings
from tests.api_support import PASSWORD, daytime_zone, make_user
from tests.dashboard_support import (
    ARTIFACTS,
    bearer_token,
    launch_chromium,
    live_app,
    patient_page,
)
from tests.programs.support import patient_with

pytestmark = pytest.mark.services


def _token(origin: str) -> str:
    return bearer_token(origin, "cora", PASSWORD)


def _patient_with_rpm(origin: str, token: str, zone: str) -> str:
    """A patient in ``zone`` with an RPM programme begun yesterday on their calendar."""
    begun = str(datetime.now(ZoneInfo(zone)).date() - timedelta(days=1))
    return patient_with(origin, token, "SIM-T1", {
        "kind": "RPM", "started_on": begun, "conditions": ["I10"],
        "consent": {"on": begun, "method": "verbal"},
    }, timezone=zone)  # fmt: skip


def _tab(browser: Browser, origin: str, token: str, patient: str, errors: list[str]) -> Page:
    """A tab of its own on the patient page, its programmes shown."""
    page = patient_page(browser, origin, token, patient, errors)
    page.locator("section.patient-programs tr.program").wait_for()
    return page


def test_the_timer_survives_a_reload_and_a_second_tab_and_stops_once(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    make_user(conn, "cora")
    with live_app(settings) as origin, sync_playwright() as playwright:
        # Where it is day now: the seven minutes below are in the patient's month.
        zone = daytime_zone(datetime.now(UTC))
        patient = _patient_with_rpm(origin, _token(origin), zone)
        browser = launch_chromium(playwright)
        errors: list[str] = []
        try:
            first = _tab(browser, origin, _token(origin), patient, errors)
            section = first.locator("section.patient-programs")
            assert section.locator("td.consent-missing").count() == 0
            section.get_by_role("button", name="Start timer").click()
            running = section.locator(".timer-running")
            running.wait_for()
            started = running.get_attribute("data-started-at")
            first.reload()
            assert section.locator(".timer-running").get_attribute("data-started-at") == started

            second = _tab(browser, origin, _token(origin), patient, errors)
            other = second.locator("section.patient-programs")
            assert other.locator(".timer-running").get_attribute("data-started-at") == started
            # Seven minutes pass.
            conn.execute("UPDATE running_timers SET started_at = started_at - interval '7 min'")
            other.get_by_label("Activity").select_option("call")
            other.get_by_label("live contact").check()
            other.get_by_role("button", name="Stop").click()
            other.get_by_role("button", name="Start timer").wait_for()
            entry = other.locator("li.time-entry")
            assert entry.count() == 1
            assert re.search(r"· RPM · 7 min( \d+ s)? · Call · live contact$", entry.inner_text())
            assert other.locator("td.program-minutes").inner_text() == "7 min"
            month = f"{datetime.now(ZoneInfo(zone)):%Y-%m}"
            header = other.locator("table.programs th").nth(4).inner_text()
            assert header == f"This month ({month}, {zone})"
            second.screenshot(path=str(ARTIFACTS / "programs-timer-stopped.png"), full_page=True)

            # The first tab still shows the timer; its Stop finds none and says so.
            section.get_by_role("button", name="Stop").click()
            section.locator("p.error").wait_for()
            assert "no timer is running" in section.locator("p.error").inner_text()
            assert section.locator("li.time-entry").count() == 1
            assert errors == []
        finally:
            browser.close()
    rows = conn.execute(
        "SELECT source, activity, interactive, seconds BETWEEN 420 AND 480 FROM time_entries"
    ).fetchall()
    assert rows == [("timer", "call", True, True)]
