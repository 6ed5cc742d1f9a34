"""What is recorded of a programme, on the patient page in a real browser: who recorded each
milestone and when, and the unsuccessful contact attempts recorded with the page's form
(two in time: the clock says "attempted twice")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page, sync_playwright

from hub.settings import Settings
from tests.api_support import PASSWORD, make_user
from tests.dashboard_support import (
    ARTIFACTS,
    bearer_token,
    launch_chromium,
    live_app,
    patient_page,
)
from tests.programs.support import patient_with

pytestmark = pytest.mark.services


@contextmanager
def _patient_page(
    settings: Settings, conn: psycopg.Connection[Any], mrn: str, programme: dict[str, Any]
) -> Iterator[tuple[Page, str]]:
    """Cora's page of a new patient with the programme started, and the patient's id; no
    console errors."""
    make_user(conn, "cora")
    with live_app(settings) as origin, sync_playwright() as playwright:
        token = bearer_token(origin, "cora", PASSWORD)
        patient = patient_with(origin, token, mrn, programme)
        browser = launch_chromium(playwright)
        errors: list[str] = []
        try:
            yield patient_page(browser, origin, token, patient, errors), patient
            assert errors == []
        finally:
            browser.close()


def test_the_patient_page_says_who_recorded_each_milestone(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    discharged = datetime.now(UTC).date() - timedelta(days=3)
    contact = datetime.combine(discharged, datetime.min.time(), UTC) + timedelta(hours=30)
    tcm = {"discharged_on": str(discharged), "setting": "inpatient", "complexity": "high",
           "first_contact_at": contact.isoformat()}  # fmt: skip
    with _patient_page(settings, conn, "SIM-T2", {"kind": "TCM", "tcm": tcm}) as (page, _):
        facts = page.locator("section.patient-programs li.program-fact")
        facts.first.wait_for()
        assert facts.evaluate_all("els => els.map(e => e.dataset.fact)") == [
            "complexity",
            "contact",
        ]
        contact_item = facts.nth(1).inner_text()
        assert contact_item.startswith("Interactive contact: ")
        assert " — recorded by cora, " in contact_item
        assert "Complexity: high — recorded by cora" in facts.nth(0).inner_text()
        page.screenshot(path=str(ARTIFACTS / "programs-recorded-by.png"), full_page=True)


def test_two_attempts_recorded_on_the_page_stand_in_for_the_contact(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    """Discharged yesterday (the patient's calendar is UTC): two unanswered calls an hour
    apart, recorded with the form, are both in time; the clock says "attempted twice"."""
    discharged = datetime.now(UTC).date() - timedelta(days=1)
    tcm = {"discharged_on": str(discharged), "setting": "inpatient"}
    with _patient_page(settings, conn, "SIM-T3", {"kind": "TCM", "tcm": tcm}) as (page, who):
        section = page.locator("section.patient-programs")
        # The browser's wall clock is this process's (the same time zone).
        for hours_ago, method in ((2, "telephone"), (1, "electronic")):
            form = section.locator("form.attempt-form")
            count = section.locator("li.contact-attempt").count()
            at = datetime.now(UTC).astimezone() - timedelta(hours=hours_ago)
            form.locator("input[name=at]").fill(at.strftime("%Y-%m-%dT%H:%M"))
            form.locator("select[name=method]").select_option(method)
            form.locator("input[name=note]").fill("no answer")
            form.get_by_role("button", name="Record attempt").click()
            section.locator("li.contact-attempt").nth(count).wait_for()
        attempts = section.locator("li.contact-attempt")
        assert attempts.count() == 2
        assert " — by cora (no answer)" in attempts.nth(0).inner_text()
        assert ", telephone" in attempts.nth(0).inner_text()
        page.reload()
        clock = page.locator("section.patient-care li.tcm-clock").first
        clock.wait_for()
        assert clock.get_attribute("data-status") == "attempted"
        assert "(attempted twice)" in clock.inner_text()
        page.screenshot(path=str(ARTIFACTS / "programs-contact-attempts.png"), full_page=True)
        # The worklist says so quietly, not as an overdue or pressing deadline.
        page.goto(page.url.split("#")[0] + "#worklist")
        row = page.locator(f"li.wl-row[data-patient-id='{who}']")
        row.locator(".deadline-satisfied").wait_for()
        assert row.locator(".deadline-satisfied").inner_text().lower() == (
            "tcm interactive contact attempted twice"
        )
        assert row.locator(".badge.sev-high.deadline").count() == 0
    rows = conn.execute(
        "SELECT method, note FROM program_records WHERE fact = 'contact_attempt' ORDER BY at_time"
    ).fetchall()
    assert rows == [("telephone", "no answer"), ("electronic", "no answer")]


def test_a_consent_is_corrected_and_a_set_up_withdrawn_on_the_page_and_the_history_keeps_both(
    settings: Settings, conn: psycopg.Connection[Any]
) -> None:
    begun = str(datetime.now(UTC).date() - timedelta(days=2))
    rpm = {"kind": "RPM", "started_on": begun, "consent": {"on": begun, "method": "verbal"},
           "setup": {"on": begun, "by": "RN Lee"}}  # fmt: skip
    with _patient_page(settings, conn, "SIM-T4", rpm) as (page, _):
        section = page.locator("section.patient-programs")
        consent = section.locator("li.program-fact[data-fact=consent]")
        consent.get_by_role("button", name="Correct").click()
        form = consent.locator("form.correct-form")
        form.locator("select[name=method]").select_option("written")
        form.locator("input[name=reason]").fill("the patient signed the form")
        form.get_by_role("button", name="Save correction").click()
        section.locator("li.program-fact[data-fact=consent] .record-corrected").wait_for()
        corrected = section.locator("li.program-fact[data-fact=consent]").inner_text()
        assert corrected.startswith(f"Consent: written, {begun} — corrected by cora, ")
        assert section.locator("td", has_text=f"written, {begun}").count() == 1
        setup = section.locator("li.program-fact[data-fact=setup]")
        setup.get_by_role("button", name="Correct").click()
        setup.locator("input[name=reason]").fill("set up for another patient")
        setup.get_by_role("button", name="Withdraw").click()
        section.locator("li.program-fact[data-fact=setup]").wait_for(state="detached")
        section.get_by_role("button", name="History").click()
        items = section.locator("ol.record-history li")
        items.first.wait_for()
        texts = [items.nth(i).inner_text() for i in range(items.count())]
        assert [t.split(" — ")[0] for t in texts] == [
            f"Consent: verbal, {begun}",
            f"Device set-up: {begun} by RN Lee",
            f"Consent: written, {begun}",
            "Device set-up: withdrawn",
        ]
        assert texts[2].endswith("(why: the patient signed the form)")
        assert texts[3].endswith("(why: set up for another patient)")
        superseded = section.locator("ol.record-history li.record-superseded")
        assert superseded.count() == 2
        page.screenshot(path=str(ARTIFACTS / "programs-corrections.png"), full_page=True)
    rows = conn.execute(
        "SELECT fact, method, withdrawn, supersedes IS NOT NULL FROM program_records ORDER BY id"
    ).fetchall()
    assert rows == [
        ("consent", "verbal", False, False),
        ("setup", None, False, False),
        ("consent", "written", False, True),
        ("setup", None, True, True),
    ]
