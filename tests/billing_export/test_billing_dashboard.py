"""The supervisor's billing page in a real browser: the month's rows, the filters, the
sign-off; and no billing for a coordinator."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, sync_playwright

from api.accounts import Role
from hub.settings import Settings
from tests.api_support import PASSWORD, make_user
from tests.billing_export.support import CALL, daily, home, log, programme
from tests.dashboard_support import ARTIFACTS, launch_chromium, live_app

pytestmark = pytest.mark.services


def _open(page: Page, origin: str, username: str, route: str) -> None:
    got = httpx.post(
        f"{origin}/api/v1/auth/token",
        data={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert got.status_code == 200, got.text
    page.goto(f"{origin}/app/")
    page.evaluate("(t) => sessionStorage.setItem('lastmile.token', t)", got.json()["access_token"])
    page.goto(f"{origin}/app/{route}")
    page.reload()


def _visible_statuses(page: Page) -> list[str]:
    rows = page.locator("tr.billing-row")
    return [rows.nth(i).get_attribute("data-status") or "" for i in range(rows.count())]


def test_a_supervisor_filters_the_month_and_signs_it_off(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    """A: consented, set up, 16 days and a 20-minute call (3 rows billable). C: no consent,
    3 days (99445 and 99453 at risk, and the time row). D: 2 days and no order."""
    sue = make_user(conn, "sue", Role.SUPERVISOR)
    cora = make_user(conn, "cora", supervisor=sue)
    a = home(conn, mrn="SIM-A", tz="America/New_York", coordinator=cora, serials=("A-1",))
    c = home(conn, mrn="SIM-C", tz="America/New_York", coordinator=cora, serials=("C-1",))
    d = home(conn, mrn="SIM-D", tz="America/New_York", coordinator=cora, serials=("D-1",))
    programme(conn, a.patient, cora, consent=date(2026, 3, 1), setup=(date(2026, 3, 1), "RN"))
    programme(conn, c.patient, cora)
    daily(conn, a.patient, a.devices["A-1"], date(2026, 3, 1), 16)
    daily(conn, c.patient, c.devices["C-1"], date(2026, 3, 2), 3)
    daily(conn, d.patient, d.devices["D-1"], date(2026, 3, 9), 2)
    log(conn, a.patient, cora, at=datetime(2026, 3, 9, 15, tzinfo=UTC), minutes=20, work=CALL)

    with live_app(settings) as origin, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        errors: list[str] = []
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            _open(page, origin, "sue", "#billing/2026-03")
            page.locator("tr.billing-row").first.wait_for()
            assert page.locator("#billing-link").is_visible()
            assert page.locator(".billing-open").is_visible()
            filters = page.locator(".billing-filters button")
            assert filters.all_inner_texts() == [
                "All (7)", "Billable (3)", "At risk (3)", "Missing consent or order (4)",
            ]  # fmt: skip
            page.get_by_role("button", name="Billable (3)").click()
            assert _visible_statuses(page) == ["billable"] * 3
            page.get_by_role("button", name="Missing consent or order (4)").click()
            flags = page.locator("tr.billing-row td.billing-flags").all_inner_texts()
            assert sorted(flags) == sorted([
                "no consent", "no consent, set-up not recorded", "no consent", "no order",
            ])  # fmt: skip
            page.screenshot(path=str(ARTIFACTS / "billing-missing.png"), full_page=True)

            page.get_by_role("button", name="Sign off 2026-03").click()
            banner = page.locator("p.billing-signed")
            banner.wait_for()
            sha = conn.execute("SELECT encode(sha256, 'hex') FROM billing_signoffs").fetchone()
            assert sha is not None
            assert "Signed off by sue" in banner.inner_text()
            assert sha[0] in banner.inner_text()
            page.reload()
            page.locator("p.billing-signed").wait_for()
            assert page.get_by_role("button", name="Sign off 2026-03").count() == 0
            assert page.locator("tr.billing-row").count() == 7
            page.screenshot(path=str(ARTIFACTS / "billing-signed.png"), full_page=True)

            other = browser.new_context().new_page()
            other.set_default_timeout(15_000)
            other.on("pageerror", lambda e: errors.append(str(e)))
            _open(other, origin, "cora", "#billing/2026-03")
            other.locator("p.error").wait_for()
            assert "supervisor or an admin" in other.locator("p.error").inner_text()
            assert not other.locator("#billing-link").is_visible()
            assert errors == []
        finally:
            browser.close()
