"""The patient page's Fitbit section in a real browser: connect link, status, disconnect."""

from __future__ import annotations

import pytest

from hub.settings import Settings
from tests.dashboard_support import dashboard
from tests.devices.conftest import FitbitHub
from tests.devices.fitbit_support import connect, enroll, status_of

pytestmark = pytest.mark.services


def test_the_patient_page_links_to_fitbit_and_shows_and_ends_a_connection(
    hub: FitbitHub, settings: Settings
) -> None:
    waiting = enroll(hub.api)
    linked = connect(hub.api, hub.fake)
    with dashboard(settings) as browser:
        page = browser.open_patient(waiting)
        button = page.get_by_role("button", name="Connect Fitbit")
        with page.expect_request(lambda r: r.url.startswith(f"{hub.fake.origin}/oauth2/")):
            button.click()

        # That tab is now away at Fitbit (and its redirect); the next page
        # opens in a tab of its own, so no navigation interrupts another.
        section = browser.open_patient(linked.patient_id).locator("section.fitbit")
        section.get_by_text("Connected", exact=True).wait_for()
        section.get_by_role("button", name="Disconnect").click()
        section.get_by_text("Disconnected", exact=True).wait_for()
        assert browser.errors == []
    assert status_of(hub.conn, linked.patient_id) == "disconnected"
    assert hub.fake.revocations == [linked.user_id]
