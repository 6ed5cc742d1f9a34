"""Withings end to end against a fake Withings: connect, pulls, refresh, status 601, notifications.

Real database, broker and ingest worker; Withings is a fake HTTPS server on
loopback answering ``{"status", "body"}`` as Withings documents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import orjson
import pytest

from devices.registry import VENDORS
from devices.vendors import run_once
from devices.withings.convert import WithingsAdapter, WithingsRecords
from devices.withings.plugin import notify_token
from hub.settings import Settings
from ingest.validation import Validator
from tests.conftest import RunningWorker
from tests.devices.withings.support import (
    EXPECTED,
    NOTIFY,
    USERID,
    WithingsHub,
    connect,
    readings,
    sample_account,
    status_of,
)
from tests.support import count, wait_until

pytestmark = pytest.mark.services

WEBHOOK = "/api/v1/withings/webhook"
WITHINGS = VENDORS["withings"]


def _token(settings: Settings) -> str:
    return notify_token(settings.withings)


def test_connect_stores_sealed_tokens_a_device_and_the_subscriptions(
    hub: WithingsHub, settings: Settings
) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    patient_id = connect(api, fake)
    row = conn.execute(
        "SELECT c.tokens, d.serial, d.kind, d.gateway_id FROM vendor_connections c"
        " JOIN devices d ON d.id = c.device_id WHERE c.vendor = 'withings' AND c.patient_id = %s",
        (patient_id,),
    ).fetchone()
    assert row is not None
    sealed, serial, kind, gateway = row
    assert (serial, kind, gateway) == (f"withings-{USERID}", "multi", "gw-vendorwithings")
    (refresh_token,) = fake.refresh_tokens_of(USERID)
    assert refresh_token.encode() not in bytes(sealed)
    callback = f"{NOTIFY}?{urlencode({'token': _token(settings)})}"
    # Weight-related data, temperature, pressure-related data: every appli of user.metrics
    # the sample account's readings are notified under.
    assert fake.subscriptions == {(USERID, callback, appli) for appli in (1, 2, 4)}
    shown = api.get(f"/api/v1/patients/{patient_id}/withings").json()
    assert (shown["vendor"], shown["status"], shown["account_id"]) == (
        "withings",
        "connected",
        str(USERID),
    )
    # Fitbit is not configured here: its routes say so, Withings' work.
    assert api.get(f"/api/v1/patients/{patient_id}/fitbit/connect").status_code == 409


def test_a_pull_stores_weight_pressure_pulse_spo2_and_temperature(
    hub: WithingsHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    assert run_once(conn, puller, now=datetime.now(UTC)) == 1
    assert wait_until(lambda: len(readings(conn, patient_id)) == len(EXPECTED))
    assert readings(conn, patient_id) == EXPECTED
    # Three pages of getmeas (two groups a page), the temperature's group among them.
    assert [s.form.get("offset") for s in fake.measure_calls()] == [None, "2", "4"]
    assert fake.measure_calls()[0].form["meastypes"] == "1,9,10,11,54,71"
    status, _, last_error, pulled_through = status_of(conn, patient_id)
    assert (status, last_error) == ("connected", None)
    assert pulled_through == datetime.now(UTC).date() - timedelta(days=1)
    assert count(conn, "SELECT count(*) FROM dead_letters") == 0


def test_temperature_is_published_in_celsius_as_open_mhealth_body_temperature() -> None:
    groups = tuple(g for g in sample_account().groups if g["grpid"] == 105)
    records = WithingsRecords(str(USERID), "Europe/Paris", groups)
    (point,) = WithingsAdapter().convert(records)
    assert point["header"]["schema_id"]["name"] == "body-temperature"
    assert point["body"]["body_temperature"] == {"value": 37.65, "unit": "C"}
    validator = Validator(future_tolerance=timedelta(minutes=5))
    assert validator.parse(orjson.dumps(point), now=datetime.now(UTC)).rejections == ()


def test_an_invalid_access_token_is_refreshed_and_the_new_pair_stored(
    hub: WithingsHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    (first,) = fake.refresh_tokens_of(USERID)
    fake.expire_access_tokens()  # Withings answers status 401 before the stored expiry
    assert puller.pull(conn, patient_id=patient_id, now=datetime.now(UTC)).outcome == "pulled"
    (second,) = fake.refresh_tokens_of(USERID)
    assert second != first
    assert fake.measure_calls()[0].status == 401
    later = datetime.now(UTC) + timedelta(hours=4)  # past expiry: refreshed before asking
    conn.execute("UPDATE vendor_connections SET next_pull_at = now()")
    assert puller.pull(conn, patient_id=patient_id, now=later).outcome == "pulled"
    (third,) = fake.refresh_tokens_of(USERID)
    assert third not in (first, second)
    assert wait_until(lambda: len(readings(conn, patient_id)) == len(EXPECTED))


def test_status_601_pauses_the_account_and_nothing_is_asked_until_the_minute_passed(
    hub: WithingsHub, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    now = datetime.now(UTC)
    fake.rate_limit()
    assert puller.pull(conn, patient_id=patient_id, now=now).outcome == "paused"
    status, paused_until, last_error, pulled_through = status_of(conn, patient_id)
    assert (status, paused_until, last_error, pulled_through) == (
        "connected",
        now + timedelta(seconds=60),
        "rate_limited",
        None,
    )
    asked = len(fake.measure_calls())
    assert run_once(conn, puller, now=now + timedelta(seconds=59)) == 0
    assert len(fake.measure_calls()) == asked
    assert run_once(conn, puller, now=now + timedelta(seconds=61)) == 1
    assert wait_until(lambda: len(readings(conn, patient_id)) == len(EXPECTED))


def test_a_bad_notification_queues_nothing_and_a_good_one_pulls_its_day(
    hub: WithingsHub, settings: Settings, worker: RunningWorker
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    conn.execute("UPDATE vendor_connections SET next_pull_at = now() + interval '1 hour'")
    day = datetime.now(UTC).date() - timedelta(days=1)
    start = int(datetime(day.year, day.month, day.day, 8, tzinfo=UTC).timestamp())
    form = {
        "userid": str(USERID),
        "appli": "4",
        "startdate": str(start),
        "enddate": str(start + 60),
    }
    body = urlencode(form)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for token in ("", "not-the-token", _token(settings)[:-1] + "x"):
        wrong = api.post(WEBHOOK, params={"token": token}, content=body, headers=headers)
        assert wrong.status_code == 404
    bad = api.post(
        WEBHOOK, params={"token": _token(settings)}, content="userid=abc&appli=4", headers=headers
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_notification")
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0
    good = api.post(WEBHOOK, params={"token": _token(settings)}, content=body, headers=headers)
    assert good.status_code == 200, good.text
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue WHERE vendor = 'withings'") == 1
    assert run_once(conn, puller, now=datetime.now(UTC)) == 1
    calls = fake.measure_calls()
    assert {(c.form["startdate"], c.form["enddate"]) for c in calls} == {
        (str(start - 8 * 3600), str(start + 16 * 3600 - 1))  # that day of a patient in UTC
    }
    assert wait_until(
        lambda: len(readings(conn, patient_id)) == 5
    )  # that day's, its temperature included: no 2-day-old weight
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0


def test_a_refused_refresh_revokes_and_disconnecting_ends_the_grant(hub: WithingsHub) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    patient_id = connect(api, fake)
    other = connect(api, fake, sample_account(userid=364))
    fake.revoke_user(USERID)  # the patient unlinked the app in their Withings account
    later = datetime.now(UTC) + timedelta(hours=4)
    assert puller.pull(conn, patient_id=patient_id, now=later).outcome == "revoked"
    assert status_of(conn, patient_id)[:3] == ("revoked", None, "invalid_grant")
    gone = api.delete(f"/api/v1/patients/{other}/withings")
    assert gone.status_code == 204, gone.text
    assert fake.revocations == [364]  # the grant, and with it Withings ended 364's subscriptions
    assert {s[0] for s in fake.subscriptions} == {USERID}
    assert status_of(conn, other)[0] == "disconnected"
    assert count(conn, "SELECT count(*) FROM vendor_connections WHERE tokens IS NOT NULL") == 0
