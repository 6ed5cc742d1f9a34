"""Exceptions of the vendor adapters, under the ``devices`` package's root.

Tree::

    DevicesError                    root of the devices package (devices.exceptions)
    └── VendorError                 a vendor adapter could not do its work
        ├── VendorPublishError      the broker refused the vendor gateway or did not acknowledge
        ├── VendorUnavailableError  no answer, a 5xx, or an answer the vendor does not document
        ├── VendorRateLimitedError  rate limited: wait ``retry_after_s`` before asking again
        ├── VendorAuthError         the account's authorization is gone (revoked, invalid_grant)
        ├── VendorExpiredTokenError the access token expired: refresh and ask again
        ├── VendorStateError        an OAuth ``state`` that is forged, expired or used already
        ├── FitbitError             Fitbit specifics (devices.fitbit.exceptions)
        └── ...                     one subtree per vendor cloud (devices.registry)

A vendor's own exceptions also derive from the generic ones above, so the
vendor base (:mod:`devices.cloud`) handles every vendor the same way.
"""

from __future__ import annotations

from devices.exceptions import DevicesError


class VendorError(DevicesError):
    """A vendor adapter could not do its work."""


class VendorPublishError(VendorError):
    """The vendor gateway could not deliver its points to the broker."""


class VendorUnavailableError(VendorError):
    """The vendor did not answer, answered 5xx, or answered something it does not document."""


class VendorRateLimitedError(VendorError):
    """The vendor's rate limit: nothing may be asked for the account for ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limited for {retry_after_s}s")
        self.retry_after_s = retry_after_s


class VendorAuthError(VendorError):
    """The account's tokens no longer work: access was revoked (invalid_grant, invalid_token)."""


class VendorExpiredTokenError(VendorError):
    """The access token expired earlier than expected: refresh, then ask again."""


class VendorStateError(VendorError):
    """The OAuth ``state`` is not one the hub handed out, has expired, or was used."""
