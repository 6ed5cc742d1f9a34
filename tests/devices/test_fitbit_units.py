"""Fitbit pieces without services: settings, tokens at rest, the signed state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from devices.fitbit.crypto import TokenBox
from devices.fitbit.exceptions import FitbitError, FitbitStateError
from devices.fitbit.models import Tokens
from hub.settings import Settings

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
STRONG = "x" * 32


def test_fitbit_needs_its_secrets_and_a_strong_key_outside_development() -> None:
    Settings(_env_file=None)  # off: nothing needed
    with pytest.raises(ValidationError, match="FITBIT_TOKEN_KEY"):
        Settings(
            _env_file=None,
            fitbit_client_id="23ABCD",
            fitbit_client_secret="s",
            fitbit_verification_code="v",
        )
    strong: dict[str, Any] = {
        "pg_password": STRONG,
        "mqtt_admin_password": STRONG,
        "mqtt_hub_password": STRONG,
        "admin_token": STRONG,
    }
    fitbit: dict[str, Any] = {
        "fitbit_client_id": "23ABCD",
        "fitbit_client_secret": "s",
        "fitbit_verification_code": "v",
        "fitbit_token_key": "short",
    }
    assert Settings(_env_file=None, **fitbit).fitbit_enabled  # development
    with pytest.raises(ValidationError, match="FITBIT_TOKEN_KEY"):
        Settings(_env_file=None, environment="production", **strong, **fitbit)


def test_sealed_tokens_open_only_for_their_patient_and_key() -> None:
    box = TokenBox("one key that is long enough")
    tokens = Tokens("access-abc", "refresh-def", NOW, "ABC123", "weight")
    sealed = box.seal(tokens, patient_id=UUID(int=1))
    assert b"access-abc" not in sealed
    assert b"refresh-def" not in sealed
    assert box.open(sealed, patient_id=UUID(int=1)) == tokens
    assert box.seal(tokens, patient_id=UUID(int=1)) != sealed  # a fresh nonce each time
    with pytest.raises(FitbitError):
        box.open(sealed, patient_id=UUID(int=2))
    with pytest.raises(FitbitError):
        TokenBox("another key, also long enough").open(sealed, patient_id=UUID(int=1))
    assert "access-abc" not in repr(tokens)


def test_a_state_is_refused_when_forged_expired_or_for_another_key() -> None:
    box = TokenBox("one key that is long enough")
    state = box.sign_state(patient_id=UUID(int=3), nonce="n", expires_at=NOW + timedelta(minutes=1))
    assert box.verify_state(state, now=NOW) == (UUID(int=3), "n")
    with pytest.raises(FitbitStateError, match="expired"):
        box.verify_state(state, now=NOW + timedelta(minutes=1))
    other = TokenBox("another key, also long enough")
    with pytest.raises(FitbitStateError):
        other.verify_state(state, now=NOW)
    _patient, nonce, expiry, mac = state.split(".")
    moved = box.sign_state(patient_id=UUID(int=4), nonce="n", expires_at=NOW).split(".")[0]
    with pytest.raises(FitbitStateError):
        box.verify_state(".".join((moved, nonce, expiry, mac)), now=NOW)
    assert len(box.code_verifier("n")) == 43
