"""The fake push service itself refuses what a real one would.

Without this, a fake that accepted anything would let the push tests pass
against a hub that signs or encrypts wrongly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pywebpush import WebPushException, webpush

from alerts.vapid import VapidKeys, ensure_vapid_keys
from hub.settings import Settings
from tests.fakes.push_service import FakePushService
from tests.fakes.webpush_protocol import BrowserSubscription


@pytest.fixture
def vapid(tmp_path: Path) -> VapidKeys:
    return ensure_vapid_keys(Settings(data_dir=tmp_path))


def test_the_fake_refuses_a_wrong_audience_and_a_body_for_other_keys(vapid: VapidKeys) -> None:
    with FakePushService() as service:
        target = service.subscribe("t", application_server_key=vapid.application_server_key)
        stranger = BrowserSubscription(
            endpoint=target.endpoint, application_server_key=vapid.application_server_key
        )
        sends = [
            (target, {"sub": "mailto:ops@lastmile.invalid", "aud": "http://elsewhere.example"}),
            (stranger, {"sub": "mailto:ops@lastmile.invalid"}),
        ]
        for keys, claims in sends:
            with pytest.raises(WebPushException):
                webpush(
                    subscription_info={
                        "endpoint": target.endpoint,
                        "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
                    },
                    data="{}",
                    vapid_private_key=vapid.signer(),
                    vapid_claims=claims,
                    ttl=60,
                    timeout=5,
                )
        assert [r.answered for r in service.received("t")] == [401, 400]
        assert "aud" in service.problems[0]
        assert "authentication tag" in service.problems[1]
