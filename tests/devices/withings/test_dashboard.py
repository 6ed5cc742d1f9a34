"""A patient's vendor clouds on the API and the dashboard: Withings beside Fitbit, by registry.

``GET /api/v1/patients/{id}/vendors`` lists every vendor of the registry with
the patient's connection; the patient page draws one section per vendor it
lists (Fitbit is not configured here and the patient never connected it, so
it has none), and connects, shows and disconnects a Withings account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devices.registry import VENDORS
from hub.settings import Settings
from tests.dashboard_support import dashboard
from tests.devices.withings.support import (
    USERID,
    WithingsHub,
    connect,
    enroll,
    sample_account,
    status_of,
)

pytestmark = pytest.mark.services


def _vendors(hub: WithingsHub, patient: object) -> list[dict[str, Any]]:
    answer = hub.api.get(f"/api/v1/patients/{patient}/vendors")
    assert answer.status_code == 200, answer.text
    vendors: list[dict[str, Any]] = answer.json()["vendors"]
    return vendors


def test_the_api_lists_each_vendor_with_the_patients_connection(hub: WithingsHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    waiting = enroll(api)
    listed = [(v["vendor"], v["label"], v["enabled"], v["status"]) for v in _vendors(hub, waiting)]
    assert listed == [  # the registry's vendors, in its order; only Withings configured here
        (vendor.name, vendor.label, vendor.name == "withings", "not_connected")
        for vendor in VENDORS.values()
    ]
    linked = connect(api, fake)
    assert puller.pull(conn, patient_id=linked, now=datetime.now(UTC)).outcome == "pulled"
    withings = {v["vendor"]: v for v in _vendors(hub, linked)}["withings"]
    assert withings == api.get(f"/api/v1/patients/{linked}/withings").json()
    assert (withings["status"], withings["account_id"], withings["last_error"]) == (
        "connected",
        str(USERID),
        None,
    )
    assert withings["pulled_through"] == str(datetime.now(UTC).date() - timedelta(days=1))
    assert withings["next_pull_at"] is not None
    fake.revoke_user(USERID)  # the patient unlinked the app in their Withings account
    later = datetime.now(UTC) + timedelta(hours=4)
    assert puller.pull(conn, patient_id=linked, now=later).outcome == "revoked"
    withings = {v["vendor"]: v for v in _vendors(hub, linked)}["withings"]
    assert (withings["status"], withings["last_error"], withings["next_pull_at"]) == (
        "revoked",
        "invalid_grant",
        None,
    )
    unknown = "/api/v1/patients/00000000-0000-0000-0000-000000000000/vendors"
    assert hub.api.get(unknown).status_code == 404


def test_the_patient_page_connects_shows_and_disconnects_withings(
    hub: WithingsHub, settings: Settings
) -> None:
    waiting = enroll(hub.api)
    linked = connect(hub.api, hub.fake)
    withdrawn = connect(hub.api, hub.fake, sample_account(userid=364))
    hub.fake.revoke_user(364)
    later = datetime.now(UTC) + timedelta(hours=4)
    assert hub.puller.pull(hub.conn, patient_id=withdrawn, now=later).outcome == "revoked"
    with dashboard(settings) as browser:
        page = browser.open_patient(waiting)
        page.locator("section.withings").wait_for()
        assert page.locator("section.fitbit").count() == 0  # off here, never connected
        button = page.get_by_role("button", name="Connect Withings")
        with page.expect_request(lambda r: r.url.startswith(f"{hub.fake.origin}/oauth2_user/")):
            button.click()

        # That tab went to Withings; each next page opens in a tab of its own.
        section = browser.open_patient(withdrawn).locator("section.withings")
        section.get_by_text("Access withdrawn at Withings: needs connecting again").wait_for()
        assert section.get_by_role("button", name="Reconnect Withings").is_visible()

        section = browser.open_patient(linked).locator("section.withings")
        section.get_by_text("Connected", exact=True).wait_for()
        section.get_by_text("No pull yet").wait_for()
        section.get_by_role("button", name="Disconnect").click()
        section.get_by_text("Disconnected", exact=True).wait_for()
        assert section.get_by_role("button", name="Reconnect Withings").is_visible()
        assert browser.errors == []
    assert status_of(hub.conn, linked)[0] == "disconnected"
    assert hub.fake.revocations == [USERID]
