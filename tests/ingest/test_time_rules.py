"""The Validator's two time rules: ``time_in_future`` and ``time_too_old``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain import RejectionCode
from ingest.exceptions import ValidatorUsageError
from ingest.validation import Validator
from tests.ingest.test_validation import NOW, TOLERANCE, only_point, only_rejection, parse, point

#: The hub's default maximum age (``max_reading_age_days``), five years.
AGED = Validator(future_tolerance=TOLERANCE, max_age=timedelta(days=1826))


def test_time_in_future_respects_the_tolerance() -> None:
    assert only_point(point(frame={"date_time": "2024-05-01T12:05:00Z"}))
    detail = only_rejection(
        point(frame={"date_time": "2024-05-01T12:05:00.000001Z"}), RejectionCode.TIME_IN_FUTURE
    )
    assert "clock skew" in detail
    # Without a maximum age, any past time is kept.
    assert only_point(point(frame={"date_time": "1999-01-01T00:00:00Z"}))


def test_time_too_old_only_past_the_maximum_age() -> None:
    oldest = (NOW - timedelta(days=1826)).isoformat()
    late = parse(point(frame={"date_time": oldest}), AGED)
    assert late.points  # five years of store and forward: kept
    assert not late.rejections
    too_old = (NOW - timedelta(days=1826, microseconds=1)).isoformat()
    for frame in ({"date_time": too_old}, {"date_time": "1970-01-01T00:00:00Z"}):
        parsed = parse(point(frame=frame), AGED)
        assert [r.code for r in parsed.rejections] == [RejectionCode.TIME_TOO_OLD]
        assert "device clock" in parsed.rejections[0].detail
    # In an array only the old point is refused.
    mixed = parse([point(), point(frame={"date_time": too_old})], AGED)
    assert [i for i, _ in mixed.points] == [0]
    assert [r.index for r in mixed.rejections] == [1]


def test_time_too_old_bounds() -> None:
    # A far-past "now" does not overflow; a non-positive age is a caller bug.
    assert AGED.parse(b"{}", now=datetime.min.replace(tzinfo=UTC)).rejections
    with pytest.raises(ValidatorUsageError):
        Validator(future_tolerance=TOLERANCE, max_age=timedelta(0))
