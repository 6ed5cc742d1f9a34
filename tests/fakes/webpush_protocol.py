"""The receiving side of Web Push, written from the RFCs for the fake push service.

* :class:`BrowserSubscription`: a subscription's key pair and auth secret,
  created as a browser creates them.
* :func:`decrypt_aes128gcm`: RFC 8291 message encryption over RFC 8188
  ``aes128gcm`` content coding, undone with the subscription's private key.
* :func:`verify_vapid`: RFC 8292 ``Authorization: vapid t=<JWT>, k=<key>``.

Written independently of pywebpush/http_ece (only ``cryptography``'s
primitives), so the hub's sending side is checked against the RFCs rather
than against the library it uses.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_TAG = 16
_HEADER = struct.Struct("!16sIB")  # salt, record size, key id length
_VAPID = re.compile(r"^vapid\s+(.*)$", re.IGNORECASE)
_MAX_EXP_S = 24 * 3600


class ProtocolError(Exception):
    """A request breaks RFC 8291/8188/8292; the message says how."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _hkdf(*, salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


@dataclass(frozen=True)
class BrowserSubscription:
    """What ``PushManager.subscribe()`` makes: an endpoint, an ECDH key pair, a secret."""

    endpoint: str
    application_server_key: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


def decrypt_aes128gcm(body: bytes, subscription: BrowserSubscription) -> bytes:
    """The plaintext of an RFC 8291 push message (one ``aes128gcm`` record)."""
    if len(body) < _HEADER.size:
        raise ProtocolError("body shorter than the aes128gcm header")
    salt, record_size, id_length = _HEADER.unpack_from(body)
    sender_point = body[_HEADER.size : _HEADER.size + id_length]
    records = body[_HEADER.size + id_length :]
    if id_length != 65 or sender_point[:1] != b"\x04":
        raise ProtocolError("keyid must be the sender's uncompressed P-256 public key (RFC 8291 4)")
    if record_size < _TAG + 2:
        raise ProtocolError(f"record size {record_size} too small")
    if not records or len(records) > record_size:
        raise ProtocolError("a push message is exactly one record (RFC 8291 4)")
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
    receiver_point = _point(subscription.private_key.public_key())
    shared = subscription.private_key.exchange(ec.ECDH(), sender)
    # RFC 8291 3.3: the input keying material combines the ECDH secret and auth secret.
    key_info = b"WebPush: info\x00" + receiver_point + sender_point
    ikm = _hkdf(salt=subscription.auth_secret, ikm=shared, info=key_info, length=32)
    # RFC 8188 2.2 and 2.3: content-encryption key and nonce from the salt.
    cek = _hkdf(salt=salt, ikm=ikm, info=b"Content-Encoding: aes128gcm\x00", length=16)
    nonce = _hkdf(salt=salt, ikm=ikm, info=b"Content-Encoding: nonce\x00", length=12)
    try:
        padded = AESGCM(cek).decrypt(nonce, records, None)  # record 0: nonce XOR 0
    except InvalidTag as exc:
        raise ProtocolError("authentication tag does not verify") from exc
    # RFC 8188 2: data, then a delimiter (0x02 in the last record), then zeros.
    unpadded = padded.rstrip(b"\x00")
    if not unpadded or unpadded[-1] != 0x02:
        raise ProtocolError("the only record must end with the last-record delimiter 0x02")
    return unpadded[:-1]


def verify_vapid(authorization: str, *, audience: str, now: float) -> tuple[str, dict[str, Any]]:
    """Check a ``vapid t=…, k=…`` header; return the key (``k``) and the JWT claims."""
    match = _VAPID.match(authorization.strip())
    if match is None:
        raise ProtocolError("Authorization is not the vapid scheme (RFC 8292 3)")
    params: dict[str, str] = {}
    for part in match.group(1).split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise ProtocolError(f"malformed vapid parameter {part!r}")
        params[name.strip().lower()] = value.strip()
    if "t" not in params or "k" not in params:
        raise ProtocolError("vapid needs both t and k")
    try:
        key_point = unb64url(params["k"])
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_point)
        header_b64, claims_b64, signature_b64 = params["t"].split(".")
        header = json.loads(unb64url(header_b64))
        claims: dict[str, Any] = json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
    except ValueError as exc:
        raise ProtocolError(f"malformed vapid token or key: {exc}") from exc
    if header.get("alg") != "ES256":
        raise ProtocolError(f"JWT alg must be ES256, got {header.get('alg')!r}")
    if len(signature) != 64:
        raise ProtocolError("an ES256 signature is r || s, 64 bytes (RFC 7518 3.4)")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ProtocolError("JWT signature does not verify with k") from exc
    if claims.get("aud") != audience:
        raise ProtocolError(f"aud {claims.get('aud')!r} is not the push service {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + _MAX_EXP_S:
        raise ProtocolError("exp must be in the future and within 24 hours (RFC 8292 2)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise ProtocolError("sub must be a mailto: or https: URI (RFC 8292 2.1)")
    return b64url(key_point), claims
