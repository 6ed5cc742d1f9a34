"""Exceptions of the conformance kit.

Tree (under the ``ingest`` package's root)::

    IngestError
    └── ConformanceError         the kit cannot run as asked
        ├── SampleError          a sample file, folder or expectation is unusable
        └── BrokerUnavailableError  the broker cannot be reached at all

A sample that the hub rejects, or a check that fails, is not an exception:
it is an outcome in the report.
"""

from __future__ import annotations

from ingest.exceptions import IngestError


class ConformanceError(IngestError):
    """Root of the conformance kit's exceptions."""


class SampleError(ConformanceError):
    """A sample file, folder or expectation cannot be used."""


class BrokerUnavailableError(ConformanceError):
    """The broker did not answer at the network level (refused, unreachable, timed out)."""
