"""Web Push through the outbox, against a fake push service on loopback.

The fake verifies each request's VAPID JWT and decrypts its RFC 8291 body
with the subscription's private key, which the test creates as a browser
would; the pusher runs on an injected clock.
"""

from __future__ import annotations

import email.utils
import json
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from alerts.exceptions import InvalidSubscriptionError
from alerts.push import (
    add_subscription,
    alert_payload,
    check_subscription,
    enqueue_alert_push,
    remove_subscription,
)
from alerts.pusher import Pusher
from alerts.service import record_detection
from alerts.vapid import VapidKeys, b64url_decode, ensure_vapid_keys, key_file
from hub import patients
from hub.alerting import AlertKind, Detection, Severity
from hub.domain import Measure
from hub.settings import Settings
from tests.api_support import make_user
from tests.fakes.push_service import HANG, Answer, FakePushService
from tests.fakes.webpush_protocol import BrowserSubscription

pytestmark = pytest.mark.services

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def vapid(tmp_path_factory: pytest.TempPathFactory) -> VapidKeys:
    return ensure_vapid_keys(Settings(data_dir=tmp_path_factory.mktemp("vapid")))


@pytest.fixture
def service() -> Iterator[FakePushService]:
    with FakePushService() as fake:
        yield fake
        assert fake.problems == []


@pytest.fixture
def pusher(settings: Settings, vapid: VapidKeys) -> Iterator[Pusher]:
    tuned = settings.model_copy(update={"push_timeout_s": TIMEOUT_S, "push_backoff_s": 30.0})
    with Pusher(tuned, vapid=vapid, clock=lambda: T0) as running:
        yield running


def _alert(conn: psycopg.Connection[Any], severity: Severity = Severity.HIGH) -> tuple[int, str]:
    """Record an alert for a new patient; return its id and the patient's id."""
    patient = patients.enroll_patient(conn, pathway="CHF", discharge_date=None, identifiers=[])
    detection = Detection(
        patient_id=patient.id,
        kind=AlertKind.WEIGHT_GAIN,
        severity=severity,
        source="rule:weight_gain_72h",
        measure=Measure.BODY_WEIGHT,
        observed={"gain_kg": 2.73},
        baseline={"threshold_kg": 2.0},
        window_start=T0 - timedelta(days=3),
        window_end=T0,
        reason="weight up 2.73 kg in 72 h",
    )
    return record_detection(conn, detection=detection, now=T0).alert_id, str(patient.id)


def _subscribe(
    conn: psycopg.Connection[Any],
    service: FakePushService,
    vapid: VapidKeys,
    name: str,
    *script: Answer,
    user_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, int, BrowserSubscription]:
    browser = service.subscribe(name, *script, application_server_key=vapid.application_server_key)
    user = user_id or _user(conn)
    return user, _register(conn, user, browser), browser


def _user(conn: psycopg.Connection[Any]) -> uuid.UUID:
    """A coordinator account to own subscriptions."""
    return make_user(conn, f"user-{uuid.uuid4().hex[:12]}")


def _register(conn: psycopg.Connection[Any], user: uuid.UUID, browser: BrowserSubscription) -> int:
    return add_subscription(
        conn,
        user_id=user,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=T0,
    )


def _push_for(
    conn: psycopg.Connection[Any],
    service: FakePushService,
    vapid: VapidKeys,
    name: str,
    *script: Answer,
    severity: Severity = Severity.HIGH,
) -> tuple[int, int]:
    """One subscription at ``name``, one alert queued for it; (outbox id, subscription id)."""
    user, sub_id, _ = _subscribe(conn, service, vapid, name, *script)
    alert_id, _ = _alert(conn, severity)
    [outbox_id] = enqueue_alert_push(
        conn, alert_id=alert_id, severity=severity, recipients=[user], now=T0
    )
    return outbox_id, sub_id


def _outbox(conn: psycopg.Connection[Any], outbox_id: int) -> dict[str, Any]:
    cur = conn.execute(
        "SELECT attempts, next_attempt_at, sent_at, failed_at, last_status, last_error, payload,"
        " subscription_id FROM push_outbox WHERE id = %s",
        (outbox_id,),
    )
    row = cur.fetchone()
    assert row is not None
    assert cur.description is not None
    return dict(zip([c.name for c in cur.description], row, strict=True))


def _count(conn: psycopg.Connection[Any], query: str, *params: object) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def test_vapid_key_is_made_once_private_and_given_in_browser_form(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = ensure_vapid_keys(settings)
    assert stat.S_IMODE(os.stat(key_file(settings)).st_mode) == 0o600
    assert ensure_vapid_keys(settings).application_server_key == first.application_server_key
    point = b64url_decode(first.application_server_key)
    assert len(point) == 65
    assert point[0] == 0x04
    assert "=" not in first.application_server_key
    assert [p.name for p in tmp_path.iterdir()] == ["vapid_private.pem"]


def test_sent_push_decrypts_to_the_outbox_payload_without_phi(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys, pusher: Pusher
) -> None:
    user, sub_id, _ = _subscribe(conn, service, vapid, "a", Answer(201))
    alert_id, patient_id = _alert(conn)
    [outbox_id] = enqueue_alert_push(
        conn, alert_id=alert_id, severity=Severity.HIGH, recipients=[user], now=T0
    )

    counts = pusher.drain_once(T0)

    assert counts.sent == 1
    assert counts.total == 1
    [seen] = service.received("a")
    row = _outbox(conn, outbox_id)
    assert seen.plaintext is not None
    assert json.loads(seen.plaintext) == row["payload"]
    assert row["payload"] == alert_payload(alert_id=alert_id, severity=Severity.HIGH)
    text = seen.plaintext.decode()
    for phi in (patient_id, "2.73", "weight", "kg", "CHF"):
        assert phi not in text
    assert seen.vapid_claims is not None
    assert seen.vapid_claims["aud"] == service.origin
    assert seen.urgency == "normal"
    assert seen.ttl is not None
    assert 0 < seen.ttl <= 12 * 3600
    assert (row["sent_at"], row["last_status"], row["attempts"]) == (T0, 201, 1)
    success = conn.execute(
        "SELECT last_success_at, failures FROM push_subscriptions WHERE id = %s", (sub_id,)
    ).fetchone()
    assert success == (T0, 0)
    assert pusher.drain_once(T0 + timedelta(hours=1)).total == 0  # sent once only


def test_critical_alert_is_pushed_with_high_urgency_and_a_shorter_positive_ttl(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys, pusher: Pusher
) -> None:
    _push_for(conn, service, vapid, "crit", severity=Severity.CRITICAL)
    _push_for(conn, service, vapid, "norm", severity=Severity.MEDIUM)

    assert pusher.drain_once(T0).sent == 2

    [critical] = service.received("crit")
    [normal] = service.received("norm")
    assert critical.urgency == "high"
    assert normal.urgency == "normal"
    assert critical.ttl is not None
    assert normal.ttl is not None
    assert 0 < critical.ttl < normal.ttl
    assert critical.plaintext is not None
    assert json.loads(critical.plaintext)["body"] == "Urgent: a patient needs attention"


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted_with_its_pending_pushes(
    conn: psycopg.Connection[Any],
    service: FakePushService,
    vapid: VapidKeys,
    pusher: Pusher,
    status: int,
) -> None:
    user, sub_id, _ = _subscribe(conn, service, vapid, "gone", Answer(status))
    _, other_sub, _ = _subscribe(conn, service, vapid, "other", Answer(201), user_id=user)
    first = enqueue_alert_push(
        conn, alert_id=_alert(conn)[0], severity=Severity.HIGH, recipients=[user], now=T0
    )
    enqueue_alert_push(
        conn, alert_id=_alert(conn)[0], severity=Severity.HIGH, recipients=[user], now=T0
    )

    counts = pusher.drain_once(T0)

    assert (counts.gone, counts.sent) == (1, 2)
    assert len(service.received("gone")) == 1  # the second push was not tried
    assert _count(conn, "SELECT count(*) FROM push_subscriptions WHERE id = %s", sub_id) == 0
    assert _count(conn, "SELECT count(*) FROM push_subscriptions WHERE id = %s", other_sub) == 1
    pending = "SELECT count(*) FROM push_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    assert _count(conn, pending) == 0
    kept = _outbox(conn, first[0])  # the answered push stays, without its subscription
    assert (kept["last_status"], kept["subscription_id"]) == (status, None)
    assert kept["failed_at"] == T0


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_is_not_retried_before_retry_after(
    conn: psycopg.Connection[Any],
    service: FakePushService,
    vapid: VapidKeys,
    pusher: Pusher,
    form: str,
) -> None:
    wait = timedelta(seconds=600)
    retry_after = "600" if form == "seconds" else email.utils.format_datetime(T0 + wait, True)
    outbox_id, _ = _push_for(
        conn, service, vapid, "busy", Answer(429, retry_after=retry_after), Answer(201)
    )

    assert pusher.drain_once(T0).retrying == 1
    assert _outbox(conn, outbox_id)["next_attempt_at"] == T0 + wait
    # Exponential backoff alone would have retried after 30 s.
    assert pusher.drain_once(T0 + wait - timedelta(seconds=1)).total == 0
    assert len(service.received("busy")) == 1

    assert pusher.drain_once(T0 + wait).sent == 1
    assert [r.answered for r in service.received("busy")] == [429, 201]
    assert _outbox(conn, outbox_id)["attempts"] == 2


def test_500_is_retried_with_backoff_then_given_up_with_the_error(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys, pusher: Pusher
) -> None:
    outbox_id, sub_id = _push_for(conn, service, vapid, "broken", Answer(500))

    now, waits = T0, []
    for attempt in range(1, 5):
        assert pusher.drain_once(now).retrying == 1
        due = _outbox(conn, outbox_id)["next_attempt_at"]
        waits.append((due - now).total_seconds())
        assert pusher.drain_once(due - timedelta(seconds=1)).total == 0
        assert len(service.received("broken")) == attempt
        now = due
    assert waits == [30, 60, 120, 240]
    assert pusher.drain_once(now).failed == 1

    row = _outbox(conn, outbox_id)
    assert (row["attempts"], row["last_status"], row["sent_at"]) == (5, 500, None)
    assert row["failed_at"] == now
    assert "500" in row["last_error"]
    assert pusher.drain_once(now + timedelta(days=1)).total == 0
    assert len(service.received("broken")) == 5
    failures = "SELECT failures FROM push_subscriptions WHERE id = %s"
    assert _count(conn, failures, sub_id) == 5  # kept: a 500 is the service's fault


def test_a_hanging_push_service_times_out_and_is_retried(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys, pusher: Pusher
) -> None:
    outbox_id, _ = _push_for(conn, service, vapid, "slow", HANG, Answer(201))

    started = time.monotonic()
    assert pusher.drain_once(T0).retrying == 1
    assert time.monotonic() - started < TIMEOUT_S + 5

    row = _outbox(conn, outbox_id)
    assert row["last_status"] is None
    assert "timed out" in row["last_error"]
    assert pusher.drain_once(row["next_attempt_at"]).sent == 1
    assert [r.answered for r in service.received("slow")] == [None, 201]


def test_push_signed_with_another_vapid_key_is_refused_and_not_retried(
    conn: psycopg.Connection[Any], settings: Settings, vapid: VapidKeys, tmp_path: Path
) -> None:
    other = ensure_vapid_keys(Settings(data_dir=tmp_path))
    with FakePushService() as service, Pusher(settings, vapid=other) as pusher:
        outbox_id, _ = _push_for(conn, service, vapid, "bound")
        assert pusher.drain_once(T0).failed == 1
        assert _outbox(conn, outbox_id)["last_status"] == 403
        assert service.problems == ["bound: signed with another key than it subscribed with"]


def test_outbox_rows_commit_and_roll_back_with_the_alert(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys
) -> None:
    alice, _, _ = _subscribe(conn, service, vapid, "alice-laptop")
    _subscribe(conn, service, vapid, "alice-phone", user_id=alice)
    bob, _, _ = _subscribe(conn, service, vapid, "bob")
    _subscribe(conn, service, vapid, "carol")  # not a recipient
    outbox = "SELECT count(*) FROM push_outbox"

    with conn.transaction():
        alert_id, _ = _alert(conn)
        enqueue_alert_push(
            conn, alert_id=alert_id, severity=Severity.HIGH, recipients=[alice, bob], now=T0
        )
        raise psycopg.Rollback
    assert _count(conn, outbox) == 0
    assert _count(conn, "SELECT count(*) FROM alerts") == 0

    with conn.transaction():
        alert_id, _ = _alert(conn)
        ids = enqueue_alert_push(
            conn, alert_id=alert_id, severity=Severity.HIGH, recipients=[alice, bob], now=T0
        )
    assert len(ids) == 3
    assert _count(conn, outbox) == 3
    assert (
        enqueue_alert_push(conn, alert_id=alert_id, severity=Severity.LOW, recipients=[], now=T0)
        == []
    )


def test_a_subscription_is_removed_by_its_owner_only(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys
) -> None:
    owner, sub_id, browser = _subscribe(conn, service, vapid, "mine")
    assert not remove_subscription(conn, subscription_id=sub_id, user_id=uuid.uuid4())
    assert (
        _register(conn, owner, browser) == sub_id
    )  # the same browser subscribing again keeps its row
    assert remove_subscription(conn, subscription_id=sub_id, user_id=owner)
    assert not remove_subscription(conn, subscription_id=sub_id, user_id=owner)


def test_subscription_values_are_checked(service: FakePushService, vapid: VapidKeys) -> None:
    good = service.subscribe("x", application_server_key=vapid.application_server_key)
    check_subscription(endpoint=good.endpoint, p256dh=good.p256dh, auth=good.auth, allow_http=True)
    public = "https://push.example.com/wpush/v2/abc"
    check_subscription(endpoint=public, p256dh=good.p256dh, auth=good.auth, allow_http=False)
    bad = [
        (good.endpoint, good.p256dh, good.auth, False),  # http
        ("https://10.0.0.5/push", good.p256dh, good.auth, False),  # internal address
        (public, good.auth, good.auth, False),  # not a point
        (public, good.p256dh, good.p256dh, False),  # auth not 16 bytes
        (public, "not base64!", good.auth, False),
    ]
    for endpoint, p256dh, auth, allow_http in bad:
        with pytest.raises(InvalidSubscriptionError):
            check_subscription(endpoint=endpoint, p256dh=p256dh, auth=auth, allow_http=allow_http)


def test_run_sends_until_stopped(
    conn: psycopg.Connection[Any], service: FakePushService, vapid: VapidKeys, settings: Settings
) -> None:
    outbox_id, _ = _push_for(conn, service, vapid, "live")
    stop = threading.Event()
    fast = settings.model_copy(update={"push_poll_s": 0.05})
    with Pusher(fast, vapid=vapid, clock=lambda: T0) as pusher:
        thread = threading.Thread(target=pusher.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while _outbox(conn, outbox_id)["sent_at"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert _outbox(conn, outbox_id)["sent_at"] == T0
