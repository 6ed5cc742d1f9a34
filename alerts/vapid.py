"""The hub's VAPID key pair (RFC 8292), kept in the data folder.

The P-256 private key is generated on first use into
``<data_dir>/vapid_private.pem`` (PKCS#8, mode 0600) and never rewritten:
browsers subscribe with its public key, so a new key would silently orphan
every subscription. Two processes starting together agree on one key: the
file is created atomically and only if it does not exist yet.

Browsers want the public key as ``applicationServerKey``: the uncompressed
point (65 bytes, ``0x04 || X || Y``), base64url without padding.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from alerts.exceptions import VapidKeyError
from hub.settings import Settings

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "vapid_private.pem"


def b64url(data: bytes) -> str:
    """Base64url without padding, as Web Push writes keys.

    >>> b64url(b"\\xfb\\xff")
    '-_8'
    """
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding (raises ``ValueError``).

    >>> b64url_decode("-_8")
    b'\\xfb\\xff'
    """
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def application_server_key(self) -> str:
        """The public key in the form ``PushManager.subscribe()`` takes."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def signer(self) -> Vapid02:
        """The key as pywebpush signs with it (``vapid t=…, k=…`` headers)."""
        return Vapid02(private_key=self.private_key)


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def ensure_vapid_keys(settings: Settings) -> VapidKeys:
    """Return the hub's VAPID keys, generating and storing them on first use."""
    path = key_file(settings)
    if not path.exists():
        _create(path)
    return load_vapid_keys(settings)


def load_vapid_keys(settings: Settings) -> VapidKeys:
    """Read the stored key pair; :class:`VapidKeyError` if missing or not a P-256 key."""
    path = key_file(settings)
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as exc:
        raise VapidKeyError(f"cannot read {path}: {exc}") from exc
    if stat.S_IMODE(mode) & 0o077:
        logger.warning("vapid_key_file_not_private", extra={"path": str(path)})
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VapidKeyError(f"{path} does not hold an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(f"{path} does not hold a P-256 (prime256v1) key")
    return VapidKeys(private_key=key)


def _create(path: Path) -> None:
    """Write a new key to ``path`` (mode 0600) unless a key is already there."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vapid.")
    except OSError as exc:
        raise VapidKeyError(f"cannot write {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        # link() fails if the key exists: another process created it first.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
            logger.info("vapid_key_generated", extra={"path": str(path)})
    except OSError as exc:
        raise VapidKeyError(f"cannot write {path}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
