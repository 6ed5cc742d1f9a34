"""Withings pulls by the patient's own days, and the notifications Withings documents.

A patient far from UTC (Los Angeles, Auckland): a notified reading near their
midnight is pulled with their local day, and a periodic pull asks from their
local midnight and moves the cursor to their yesterday. Notifications are
form posts of ``userid``, ``appli`` and a ``startdate``/``enddate`` span, or
a profile event (appli 46) with an ``action``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from devices.cloud.models import Notification
from devices.registry import VENDORS
from devices.vendors import run_once
from devices.withings.plugin import notify_token, start_of
from devices.withings.status import TABLE, Family, family, status_error
from hub.settings import Settings, VendorSettings
from tests.conftest import RunningWorker
from tests.devices.withings.support import (
    USERID,
    WithingsHub,
    connect,
    readings,
    sample_account,
    status_of,
)
from tests.fakes.withings_api import FakeAccount
from tests.support import count, wait_until

WITHINGS = VENDORS["withings"]
LOS_ANGELES, AUCKLAND = ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Auckland")


def _group(grpid: int, at: datetime, measures: list[tuple[int, int, int]]) -> dict[str, Any]:
    return {
        "grpid": grpid,
        "attrib": 0,
        "date": int(at.timestamp()),
        "category": 1,
        "measures": [{"value": v, "type": t, "unit": u} for v, t, u in measures],
    }


def _notify(hub: WithingsHub, settings: Settings, form: dict[str, str]) -> int:
    answer = hub.api.post(
        "/api/v1/withings/webhook",
        params={"token": notify_token(settings.withings)},
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return answer.status_code


@pytest.mark.services
def test_a_notified_reading_near_the_patients_midnight_is_pulled_with_their_day(
    hub: WithingsHub, settings: Settings, worker: RunningWorker
) -> None:
    api, conn, fake = hub.api, hub.conn, hub.fake
    day = datetime.now(LOS_ANGELES).date() - timedelta(days=1)
    late = datetime.combine(day, time(23, 50), tzinfo=LOS_ANGELES)  # the next UTC day already
    after_midnight = late + timedelta(minutes=20)  # the patient's next day
    account = FakeAccount(
        userid=USERID,
        timezone="America/Los_Angeles",
        groups=[
            _group(301, late, [(14200, 10, -2), (91, 9, 0)]),
            _group(302, after_midnight, [(81250, 1, -3)]),
        ],
    )
    patient_id = connect(api, fake, account, timezone="America/Los_Angeles")
    conn.execute("UPDATE vendor_connections SET next_pull_at = now() + interval '1 hour'")
    assert late.astimezone(UTC).date() == day + timedelta(days=1)
    stamp = str(int(late.timestamp()))
    form = {"userid": str(USERID), "appli": "4", "startdate": stamp, "enddate": stamp}
    assert _notify(hub, settings, form) == 200
    queued = conn.execute("SELECT day FROM vendor_pull_queue WHERE vendor = 'withings'").fetchall()
    assert queued == [(day,)]  # the patient's day, not the UTC one
    assert run_once(conn, hub.puller, now=datetime.now(UTC)) == 1
    (call,) = fake.measure_calls()
    midnight = datetime.combine(day, time(0), tzinfo=LOS_ANGELES)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOS_ANGELES)
    assert (call.form["startdate"], call.form["enddate"]) == (
        str(int(midnight.timestamp())),
        str(int(next_midnight.timestamp()) - 1),
    )
    assert wait_until(lambda: len(readings(conn, patient_id)) == 1)
    assert readings(conn, patient_id) == [("blood-pressure", 142.0, 91.0, "sensed")]
    assert count(conn, "SELECT count(*) FROM vendor_pull_queue") == 0


@pytest.mark.services
def test_a_periodic_pull_asks_from_the_patients_midnight_and_stops_at_their_yesterday(
    hub: WithingsHub,
) -> None:
    api, conn, fake, puller = hub.api, hub.conn, hub.fake, hub.puller
    # 20:00 UTC is the next morning in Auckland: the two calendars name different days.
    now = datetime.now(UTC).replace(hour=20, minute=0, second=0, microsecond=0)
    if now > datetime.now(UTC):
        now -= timedelta(days=1)
    today = now.astimezone(AUCKLAND).date()
    assert today == now.date() + timedelta(days=1)
    patient_id = connect(api, fake, sample_account(), timezone="Pacific/Auckland")
    assert puller.pull(conn, patient_id=patient_id, now=now).outcome == "pulled"
    first = fake.measure_calls()[0].form
    # backfill_days=4: Auckland's today and the three days before it.
    assert (first["startdate"], first["enddate"]) == (
        str(start_of(today - timedelta(days=3), AUCKLAND)),
        str(int(now.timestamp())),
    )
    assert status_of(conn, patient_id)[3] == today - timedelta(days=1)
    later = now + timedelta(hours=1)
    assert puller.pull(conn, patient_id=patient_id, now=later).outcome == "pulled"
    assert fake.measure_calls()[-1].form["startdate"] == str(start_of(today, AUCKLAND))


def _config() -> VendorSettings:
    return VendorSettings(client_id="c", verification_code=SecretStr("notify secret"))


def _parse(form: dict[str, str]) -> list[Notification]:
    config = _config()
    return WITHINGS.notifications(
        config, body=urlencode(form).encode(), headers={}, query={"token": notify_token(config)}
    )


def test_a_data_notification_is_its_span_and_a_profile_event_is_its_action() -> None:
    span = {"startdate": "1714521600", "enddate": "1714525200"}
    (note,) = _parse({"userid": "363", "appli": "1", **span})
    assert (note.account_id, note.kind, note.revoked) == ("363", "1", False)
    assert note.span == (
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 1, 1, tzinfo=UTC),
    )
    for action in ("unlink", "delete"):
        (gone,) = _parse({"userid": "363", "appli": "46", "action": action})
        assert (gone.account_id, gone.revoked, gone.span) == ("363", True, None)
    assert _parse({"userid": "363", "appli": "46", "action": "update"}) == []


@pytest.mark.parametrize(
    "form",
    [
        {"userid": "363", "appli": "1"},  # no span
        {"userid": "363", "appli": "1", "startdate": "x", "enddate": "1714525200"},
        {"userid": "363", "appli": "1", "startdate": "1714525200", "enddate": "1714521600"},
        {"userid": "363", "appli": "1", "startdate": "1700000000", "enddate": "1714521600"},
        {"userid": "abc", "appli": "1", "startdate": "1714521600", "enddate": "1714521600"},
    ],
)
def test_a_notification_not_as_documented_is_refused(form: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="notification"):
        _parse(form)


def test_the_status_table_is_withings_families_without_overlaps() -> None:
    rows = sorted(TABLE)
    assert all(a[1] < b[0] for a, b in pairwise(rows))
    assert all(first <= last for first, last, _ in rows)
    assert (family(0), family(239), family(12345)) == (None, None, None)
    assert family(2554) is Family.NOT_IMPLEMENTED  # not one of their errors
    assert {family(s) for s in (100, 101, 102, 200, 401)} == {Family.AUTHENTICATION_FAILED}


@pytest.mark.parametrize(
    ("status", "token_call", "error"),
    [
        (601, False, "WithingsRateLimitedError"),
        (601, True, "WithingsRateLimitedError"),
        (401, False, "WithingsExpiredTokenError"),
        (100, False, "WithingsExpiredTokenError"),
        (503, True, "WithingsAuthError"),  # a refused code or refresh token
        (100, True, "WithingsAuthError"),
        (522, True, "WithingsUnavailableError"),  # a timeout: try again
        (2552, True, "WithingsUnavailableError"),  # their error: the grant may be fine
        (2554, True, "WithingsUnavailableError"),
        (2555, True, "WithingsUnavailableError"),
        (503, False, "WithingsUnavailableError"),
        (99999, True, "WithingsUnavailableError"),  # not in the table: never ends a grant
    ],
)
def test_each_family_becomes_the_error_the_base_acts_on(
    status: int, token_call: bool, error: str
) -> None:
    assert type(status_error(status, token_call=token_call)).__name__ == error


def test_start_of_a_day_is_its_local_midnight() -> None:
    assert start_of(date(2024, 5, 1), LOS_ANGELES) == int(
        datetime(2024, 5, 1, 7, tzinfo=UTC).timestamp()
    )
