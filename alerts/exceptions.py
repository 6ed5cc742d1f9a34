"""Exceptions of the ``alerts`` package.

Tree::

    AlertsError                   root of the package's exceptions
    └── PushError                 Web Push to coordinators
        ├── VapidKeyError         the VAPID key file cannot be read, parsed or written
        └── InvalidSubscriptionError
                                  a push subscription's endpoint or keys are malformed
                                  (api/ answers 422)

Failed deliveries are not exceptions: the pusher records them on the outbox
row (status, error, next attempt) and goes on.
"""


class AlertsError(Exception):
    """Root of the alerts package's exceptions."""


class PushError(AlertsError):
    """Something about Web Push to coordinators went wrong."""


class VapidKeyError(PushError):
    """The VAPID key pair in the data folder cannot be read, parsed or written."""


class InvalidSubscriptionError(PushError):
    """A push subscription's endpoint or keys are not what a browser gives."""
