"""Exceptions of the month's billing export and its sign-off.

Tree::

    BillingExportError        root; ``code`` names the rule, for the API's answer
    ├── InvalidMonthError     invalid_month: not ``YYYY-MM``, or no rules cover it (api/: 400)
    └── SignOffStateError     the month's state does not allow it (api/: 409)
        ├── MonthNotOverError      month_not_over: a month is signed once it has ended everywhere
        ├── AlreadySignedError     already_signed: this scope signed the month already
        └── MonthSignedError       month_signed: a correction of time billed in a signed month
"""

from __future__ import annotations


class BillingExportError(Exception):
    """Root of the billing export's exceptions."""

    code = "billing_export_error"


class InvalidMonthError(BillingExportError):
    code = "invalid_month"


class SignOffStateError(BillingExportError):
    code = "signoff_state"


class MonthNotOverError(SignOffStateError):
    code = "month_not_over"


class AlreadySignedError(SignOffStateError):
    code = "already_signed"


class MonthSignedError(SignOffStateError):
    code = "month_signed"
