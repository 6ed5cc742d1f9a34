"""The patient page's Fitbit section in a real browser: connect link, status, disconnect."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, sync_playwright

from hub.settings import Settings
from tests.dashboard_support import launch_chromium, live_app
from tests.devices.conftest import FitbitHub
from tests.devices.fitbit_support import connect, enroll, status_of

pytestmark = pytest.mark.services


def _open_patient(page: Page, origin: str, token: str, patient: object) -> None:
    page.goto(f"{origin}/app/")
    page.evaluate("(t) => sessionStorage.setItem('lastmile.token', t)", token)
    page.goto(f"{origin}/app/#patient/{patient}")
    page.reload()


def test_the_patient_page_links_to_fitbit_and_shows_and_ends_a_connection(
    hub: FitbitHub, settings: Settings
) -> None:
    token = settings.admin_token.get_secret_value()
    waiting = enroll(hub.api)
    linked = connect(hub.api, hub.fake)
    with live_app(settings) as origin, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(ignore_https_errors=True)
            context.set_default_timeout(15_000)
            errors: list[str] = []
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))

            _open_patient(page, origin, token, waiting)
            button = page.get_by_role("button", name="Connect Fitbit")
            with page.expect_request(lambda r: r.url.startswith(f"{hub.fake.origin}/oauth2/")):
                button.click()

            # That tab is now away at Fitbit (and its redirect); the next page
            # opens in a tab of its own, so no navigation interrupts another.
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            _open_patient(page, origin, token, linked.patient_id)
            section = page.locator("section.fitbit")
            section.get_by_text("Connected", exact=True).wait_for()
            section.get_by_role("button", name="Disconnect").click()
            section.get_by_text("Disconnected", exact=True).wait_for()
            assert errors == []
        finally:
            browser.close()
    assert status_of(hub.conn, linked.patient_id) == "disconnected"
    assert hub.fake.revocations == [linked.user_id]
