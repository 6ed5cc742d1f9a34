"""Errors raised by the streaming detection core.

A pathway that cannot be read raises ``hub.exceptions.PathwayError`` (pathways
are shared vocabulary).

The tree::

    StreamingError                  root of every streaming error
    ├── ReadingError                a reading the engine cannot process
    │                               (another patient's, a naive timestamp)
    ├── NaiveDatetimeError          a timezone-naive datetime was passed in
    └── ScorerError                 scoring a batch failed
        ├── ScorerUnavailableError  the scoring process or its database went
        │                           away (transient: retry the batch)
        └── ScorerFailedError       a detector raised on the batch's readings
"""

from __future__ import annotations


class StreamingError(Exception):
    """Root of every error raised by ``streaming``."""


class ReadingError(StreamingError):
    """A reading the engine refuses: another patient's, or a naive timestamp."""


class NaiveDatetimeError(StreamingError):
    """A datetime without a timezone was passed in; every time here is tz-aware."""


class ScorerError(StreamingError):
    """Scoring a batch failed; the batch's transaction must not commit."""


class ScorerUnavailableError(ScorerError):
    """The scoring process or its database connection went away; retry the batch."""


class ScorerFailedError(ScorerError):
    """A detector raised on one of the batch's readings (a bug, not bad input)."""
