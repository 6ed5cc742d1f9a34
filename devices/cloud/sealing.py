"""The one sealer of every vendor: tokens encrypted at rest, and the signed OAuth ``state``.

Each vendor has its own secret (``LASTMILE_<VENDOR>__TOKEN_KEY``); both keys
are derived from it (HKDF-SHA256) with the vendor's name in the derivation,
so one vendor's key opens nothing of another's. Tokens are sealed with
AES-256-GCM, a fresh 96-bit nonce each time and the patient id as associated
data, so a ciphertext copied onto another patient's row does not open. The
``state`` is ``<patient>.<nonce>.<expiry>.<HMAC-SHA256>`` (base64url); the
PKCE code verifier is derived from the nonce, so nothing secret waits in the
database between the connect link and the callback.

>>> box = TokenBox("a test key that is long enough", vendor="fitbit")
>>> from datetime import UTC, datetime, timedelta
>>> from uuid import UUID
>>> patient = UUID(int=7)
>>> now = datetime(2024, 5, 1, tzinfo=UTC)
>>> state = box.sign_state(patient_id=patient, nonce="n1", expires_at=now + timedelta(minutes=10))
>>> box.verify_state(state, now=now)
(UUID('00000000-0000-0000-0000-000000000007'), 'n1')
>>> TokenBox("a test key that is long enough", vendor="withings").verify_state(state, now=now)
Traceback (most recent call last):
...
devices.adapters.exceptions.VendorStateError: state is not one this hub signed
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import UTC, datetime
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from devices.adapters.exceptions import VendorError, VendorStateError
from devices.cloud.models import Tokens

_NONCE_BYTES = 12


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenBox:
    """Seals one vendor's tokens and signs its states with keys derived from its secret."""

    def __init__(self, secret: str, *, vendor: str) -> None:
        if not secret:
            raise VendorError(f"{vendor} token_key is not set")
        # The derivation labels of the Fitbit-only sealer this one replaced
        # ("lastmile fitbit tokens v1"), so tokens sealed before still open.
        self._aead = AESGCM(_derive(secret, f"lastmile {vendor} tokens v1".encode()))
        self._state_key = _derive(secret, f"lastmile {vendor} oauth state v1".encode())

    def seal(self, tokens: Tokens, *, patient_id: UUID) -> bytes:
        plain = orjson.dumps(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": tokens.expires_at.isoformat(),
                "user_id": tokens.account_id,
                "scope": tokens.scope,
            }
        )
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, patient_id.bytes)

    def open(self, sealed: bytes, *, patient_id: UUID) -> Tokens:
        try:
            plain = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], patient_id.bytes
            )
        except InvalidTag as exc:
            raise VendorError("stored tokens do not open with this key") from exc
        data = orjson.loads(plain)
        return Tokens(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            account_id=data["user_id"],
            scope=data["scope"],
        )

    def _mac(self, message: str) -> str:
        return _b64(hmac.new(self._state_key, message.encode(), hashlib.sha256).digest())

    def sign_state(self, *, patient_id: UUID, nonce: str, expires_at: datetime) -> str:
        message = f"{_b64(patient_id.bytes)}.{nonce}.{int(expires_at.timestamp())}"
        return f"{message}.{self._mac(message)}"

    def verify_state(self, state: str, *, now: datetime) -> tuple[UUID, str]:
        """The patient and nonce of a state this hub signed and that has not expired."""
        message, _, mac = state.rpartition(".")
        if not message or not hmac.compare_digest(mac.encode(), self._mac(message).encode()):
            raise VendorStateError("state is not one this hub signed")
        try:
            patient, nonce, expiry = message.split(".")
            expires = datetime.fromtimestamp(int(expiry), UTC)
            patient_id = UUID(bytes=_unb64(patient))
        except ValueError as exc:
            raise VendorStateError("state is malformed") from exc
        if expires <= now:
            raise VendorStateError("state has expired")
        return patient_id, nonce

    def code_verifier(self, nonce: str) -> str:
        """The PKCE code verifier of one authorization (43 characters, RFC 7636)."""
        return _b64(hmac.new(self._state_key, b"pkce\x00" + nonce.encode(), "sha256").digest())


def code_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 4.2)."""
    return _b64(hashlib.sha256(verifier.encode()).digest())
