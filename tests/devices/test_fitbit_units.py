"""Vendor pieces without services: Fitbit's settings, tokens at rest, the signed state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from devices.adapters.exceptions import VendorError, VendorStateError
from devices.cloud.models import Tokens
from devices.cloud.sealing import TokenBox
from hub.settings import Settings

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
STRONG = "x" * 32


def test_fitbit_needs_its_secrets_and_a_strong_key_outside_development() -> None:
    Settings(_env_file=None)  # off: nothing needed
    with pytest.raises(ValidationError, match="FITBIT__TOKEN_KEY"):
        Settings(
            _env_file=None,
            fitbit={"client_id": "23ABCD", "client_secret": "s", "verification_code": "v"},
        )
    strong: dict[str, Any] = {
        "pg_password": STRONG,
        "mqtt_admin_password": STRONG,
        "mqtt_hub_password": STRONG,
        "admin_token": STRONG,
    }
    fitbit: dict[str, Any] = {
        "client_id": "23ABCD",
        "client_secret": "s",
        "verification_code": "v",
        "token_key": "short",
    }
    dev = Settings(_env_file=None, fitbit=fitbit)  # development
    assert dev.fitbit.enabled
    assert dev.fitbit.api_url == "https://api.fitbit.com"  # the vendor's other defaults stay
    with pytest.raises(ValidationError, match="FITBIT__TOKEN_KEY"):
        Settings(_env_file=None, environment="production", fitbit=fitbit, **strong)


def test_sealed_tokens_open_only_for_their_patient_and_key() -> None:
    box = TokenBox("one key that is long enough", vendor="fitbit")
    tokens = Tokens("access-abc", "refresh-def", NOW, "ABC123", "weight")
    sealed = box.seal(tokens, patient_id=UUID(int=1))
    assert b"access-abc" not in sealed
    assert b"refresh-def" not in sealed
    assert box.open(sealed, patient_id=UUID(int=1)) == tokens
    assert box.seal(tokens, patient_id=UUID(int=1)) != sealed  # a fresh nonce each time
    with pytest.raises(VendorError):
        box.open(sealed, patient_id=UUID(int=2))
    with pytest.raises(VendorError):
        TokenBox("another key, also long enough", vendor="fitbit").open(
            sealed, patient_id=UUID(int=1)
        )
    assert "access-abc" not in repr(tokens)


def test_a_state_is_refused_when_forged_expired_or_for_another_key() -> None:
    box = TokenBox("one key that is long enough", vendor="fitbit")
    state = box.sign_state(patient_id=UUID(int=3), nonce="n", expires_at=NOW + timedelta(minutes=1))
    assert box.verify_state(state, now=NOW) == (UUID(int=3), "n")
    with pytest.raises(VendorStateError, match="expired"):
        box.verify_state(state, now=NOW + timedelta(minutes=1))
    other = TokenBox("another key, also long enough", vendor="fitbit")
    with pytest.raises(VendorStateError):
        other.verify_state(state, now=NOW)
    _patient, nonce, expiry, mac = state.split(".")
    moved = box.sign_state(patient_id=UUID(int=4), nonce="n", expires_at=NOW).split(".")[0]
    with pytest.raises(VendorStateError):
        box.verify_state(".".join((moved, nonce, expiry, mac)), now=NOW)
    assert len(box.code_verifier("n")) == 43


def test_one_vendors_key_opens_nothing_of_another_vendors() -> None:
    secret = "the same secret, long enough"
    tokens = Tokens("access-abc", "refresh-def", NOW, "ABC123", "weight")
    sealed = TokenBox(secret, vendor="fitbit").seal(tokens, patient_id=UUID(int=1))
    with pytest.raises(VendorError):
        TokenBox(secret, vendor="withings").open(sealed, patient_id=UUID(int=1))
