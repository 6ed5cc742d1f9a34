"""Descriptive statistics: levels are readings, counts and spreads are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hub.domain import NON_LEVEL_STATISTICS, RejectionCode
from ingest.validation import Validator

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _weight(statistic: str) -> bytes:
    return orjson.dumps(
        {
            "header": {
                "id": "h-1",
                "creation_date_time": "2026-11-01T08:00:00Z",
                "schema_id": {"namespace": "omh", "name": "body-weight", "version": "2.0"},
            },
            "body": {
                "body_weight": {"value": 80.5, "unit": "kg"},
                "effective_time_frame": {
                    "time_interval": {
                        "start_date_time": "2026-10-25T00:00:00Z",
                        "end_date_time": "2026-11-01T00:00:00Z",
                    }
                },
                "descriptive_statistic": statistic,
            },
        }
    )


@pytest.mark.parametrize("statistic", ["minimum", "maximum", "average", "median"])
def test_level_statistics_are_stored_with_the_statistic(statistic: str) -> None:
    parsed = Validator(future_tolerance=timedelta(minutes=5)).parse(_weight(statistic), now=NOW)
    assert parsed.rejections == ()
    [(_, point)] = parsed.points
    assert point.descriptive_statistic == statistic
    assert point.value == 80.5


@pytest.mark.parametrize("statistic", sorted(NON_LEVEL_STATISTICS))
def test_counts_sums_and_spreads_are_rejected(statistic: str) -> None:
    parsed = Validator(future_tolerance=timedelta(minutes=5)).parse(_weight(statistic), now=NOW)
    assert parsed.points == ()
    [rejection] = parsed.rejections
    assert rejection.code is RejectionCode.STATISTIC_UNSUPPORTED
    assert rejection.header_id == "h-1"
