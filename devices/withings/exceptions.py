"""Exceptions of the Withings adapter.

Tree (each also derives from the generic one in :mod:`devices.adapters.exceptions`)::

    VendorError                        (devices.adapters.exceptions)
    └── WithingsError                  Withings did not do what was asked
        ├── WithingsUnavailableError   no answer, an HTTP error, or an undocumented answer
        ├── WithingsRateLimitedError   status 601: too many requests
        ├── WithingsAuthError          the grant is gone (a refresh refused)
        └── WithingsExpiredTokenError  status 401 on a data call: refresh and ask again
"""

from __future__ import annotations

from devices.adapters.exceptions import (
    VendorAuthError,
    VendorError,
    VendorExpiredTokenError,
    VendorRateLimitedError,
    VendorUnavailableError,
)


class WithingsError(VendorError):
    """Withings did not do what was asked."""


class WithingsUnavailableError(WithingsError, VendorUnavailableError):
    """Withings did not answer, or answered something it does not document."""


class WithingsRateLimitedError(WithingsError, VendorRateLimitedError):
    """Withings answered status 601 (too many requests)."""


class WithingsAuthError(WithingsError, VendorAuthError):
    """The account's grant no longer works (the refresh token was refused)."""


class WithingsExpiredTokenError(WithingsError, VendorExpiredTokenError):
    """Withings answered status 401 to a data call: the access token is no longer valid."""
