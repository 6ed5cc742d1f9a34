"""Exceptions of the Fitbit adapter.

Tree (each also derives from the generic one in :mod:`devices.adapters.exceptions`)::

    VendorError                     (devices.adapters.exceptions)
    └── FitbitError                 Fitbit did not do what was asked
        ├── FitbitUnavailableError  no answer, a 5xx, or an answer that is not what Fitbit documents
        ├── FitbitRateLimitedError  429: wait ``retry_after_s`` before asking for this account again
        ├── FitbitAuthError         the account's authorization is gone (revoked, invalid_grant)
        ├── FitbitExpiredTokenError the access token expired: refresh and ask again
        └── FitbitStateError        an OAuth ``state`` that is forged, expired or used already
"""

from __future__ import annotations

from devices.adapters.exceptions import (
    VendorAuthError,
    VendorError,
    VendorExpiredTokenError,
    VendorRateLimitedError,
    VendorStateError,
    VendorUnavailableError,
)


class FitbitError(VendorError):
    """Fitbit did not do what was asked."""


class FitbitUnavailableError(FitbitError, VendorUnavailableError):
    """Fitbit did not answer, answered 5xx, or answered something unexpected."""


class FitbitRateLimitedError(FitbitError, VendorRateLimitedError):
    """Fitbit answered 429 Too Many Requests."""


class FitbitAuthError(FitbitError, VendorAuthError):
    """The account's tokens no longer work: access was revoked (invalid_grant, invalid_token)."""


class FitbitStateError(FitbitError, VendorStateError):
    """The OAuth ``state`` is not one the hub handed out, has expired, or was used."""


class FitbitExpiredTokenError(FitbitError, VendorExpiredTokenError):
    """The access token expired earlier than expected: refresh, then ask again."""
