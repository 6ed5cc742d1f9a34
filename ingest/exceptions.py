"""Exceptions of the ``ingest`` package.

One root, :class:`IngestError`; everything the package raises on purpose
derives from it::

    IngestError
     ├── SchemaLoadError      a bundled JSON schema is missing, malformed, refers
     │                        outside the bundle, or uses a keyword we do not vet
     ├── ValidatorUsageError  (also ValueError) a Validator built or called with
     │                        bad arguments: negative limits, a naive ``now``
     ├── PointRejectedError   internal: one data point is not stored; carries the
     │                        rejection code and detail, never leaves ``parse``
     └── RxnormFormatError    (also ValueError) an RxNorm release file is missing or
                              is not RRF as RxNorm ships it (``lastmile import rxnorm``)

Bad payloads are *not* exceptions for callers:
:meth:`ingest.validation.Validator.parse` never raises for any payload, it
turns every problem into a coded :class:`hub.domain.Rejection`.
"""

from __future__ import annotations

from hub.domain import RejectionCode


class IngestError(Exception):
    """Root of every exception raised on purpose by the ``ingest`` package."""


class SchemaLoadError(IngestError):
    """A bundled schema could not be loaded, resolved or compiled.

    This is a packaging or programming error, raised when a
    :class:`~ingest.validation.Validator` is built, never while parsing.
    """


class ValidatorUsageError(IngestError, ValueError):
    """A :class:`~ingest.validation.Validator` was built or called wrongly."""


class PointRejectedError(IngestError):
    """One data point is not stored (control flow inside ``parse``).

    >>> PointRejectedError(RejectionCode.TIME_IN_FUTURE, "measured after now").code
    <RejectionCode.TIME_IN_FUTURE: 'time_in_future'>
    """

    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail


class RxnormFormatError(IngestError, ValueError):
    """An RxNorm release file is missing or is not RRF as RxNorm ships it."""
