"""The contract every vendor adapter keeps, run over every adapter of the registry.

Like the detector contract suite (tests/streaming/test_detectors_contract.py):
each adapter needs a :class:`Spec` with vendor records here, and an adapter
without one fails the suite. Its points must pass the hub's own validator
with no rejection, be a pure function of the records (same points, same
header ids), say their modality, and name a measure the adapter declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.adapters.base import DeviceAdapter
from devices.fitbit.convert import SCALE_SOURCES, FitbitAdapter
from devices.fitbit.models import FitbitRecords
from devices.registry import ADAPTERS
from devices.withings.convert import WithingsAdapter, WithingsRecords
from hub.domain import SUPPORTED_VERSIONS, Measure, Modality
from ingest.validation import Validator

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5))


@dataclass(frozen=True)
class Spec:
    #: Records of one account, and how many points they must give.
    records: Callable[[], Any]
    points: int


def _fitbit_records() -> FitbitRecords:
    return FitbitRecords(
        user_id="ABC123",
        timezone="Asia/Kolkata",
        complete_through=date(2024, 6, 2),
        weights=(
            {
                "logId": 1,
                "date": "2024-06-01",
                "time": "06:30:00",
                "weight": 70.2,
                "source": "Aria",
            },
            {"logId": 2, "date": "2024-06-02", "time": "23:59:59", "weight": 70.9, "source": "API"},
        ),
        spo2=(
            {"dateTime": "2024-06-02", "value": {"avg": 96.1, "min": 92.0, "max": 99.0}},
            {"dateTime": "2024-06-03", "value": {"avg": 95.0, "min": 91.0, "max": 99.0}},
        ),
        heart=(
            {"dateTime": "2024-06-01", "value": {"heartRateZones": []}},  # no resting rate
            {"dateTime": "2024-06-02", "value": {"restingHeartRate": 58}},
            {"dateTime": "2024-06-03", "value": {"restingHeartRate": 57}},  # not over yet
        ),
    )


def _withings_records() -> WithingsRecords:
    def group(grpid: int, attrib: int, at: int, *measures: tuple[int, int, int]) -> dict[str, Any]:
        return {
            "grpid": grpid,
            "attrib": attrib,
            "date": at,
            "category": 1,
            "measures": [{"value": v, "type": t, "unit": u} for v, t, u in measures],
        }

    at = int(datetime(2024, 6, 2, 7, tzinfo=UTC).timestamp())
    return WithingsRecords(
        user_id="363",
        timezone="Asia/Kolkata",
        groups=(
            group(1, 0, at, (70200, 1, -3)),
            group(2, 2, at + 60, (709, 1, -1)),
            group(3, 0, at + 120, (12950, 10, -2), (81, 9, 0), (72, 11, 0)),
            group(4, 0, at + 180, (96, 54, 0)),
            group(5, 0, at + 240, (37650, 71, -3)),  # temperature, in °C
            group(6, 0, at + 300, (130, 10, 0)),  # systolic without diastolic: left out
        ),
    )


SPECS: dict[type[DeviceAdapter[Any]], Spec] = {
    FitbitAdapter: Spec(_fitbit_records, points=4),
    WithingsAdapter: Spec(_withings_records, points=6),
}


def test_every_adapter_has_a_spec() -> None:
    assert set(SPECS) == set(ADAPTERS)


@pytest.fixture(params=ADAPTERS, ids=lambda cls: cls.__name__)
def adapter(request: pytest.FixtureRequest) -> DeviceAdapter[Any]:
    cls: type[DeviceAdapter[Any]] = request.param
    return cls()


def test_points_pass_the_hubs_validator_with_no_rejection(adapter: DeviceAdapter[Any]) -> None:
    spec = SPECS[type(adapter)]
    points = adapter.convert(spec.records())
    assert len(points) == spec.points
    parsed = VALIDATOR.parse(orjson.dumps(points), now=NOW)
    assert parsed.rejections == ()
    assert len(parsed.points) == spec.points
    assert {p.measure for _, p in parsed.points} <= adapter.measures


def test_output_is_deterministic(adapter: DeviceAdapter[Any]) -> None:
    spec = SPECS[type(adapter)]
    first, second = adapter.convert(spec.records()), adapter.convert(spec.records())
    assert orjson.dumps(first) == orjson.dumps(second)
    ids = [p["header"]["id"] for p in first]
    assert len(set(ids)) == len(ids)


def test_every_point_says_its_modality_and_a_supported_schema(adapter: DeviceAdapter[Any]) -> None:
    for point in adapter.convert(SPECS[type(adapter)].records()):
        header = point["header"]
        assert header["acquisition_provenance"]["modality"] in {m.value for m in Modality}
        schema = header["schema_id"]
        assert schema["namespace"] == "omh"
        assert schema["version"] in SUPPORTED_VERSIONS[Measure(schema["name"])]


def test_the_vendor_gateway_id_is_a_valid_gateway_id(adapter: DeviceAdapter[Any]) -> None:
    assert re.fullmatch(r"gw-[a-z0-9]{8,40}", adapter.gateway_id)
    assert adapter.serial("X1") == adapter.serial("X1") != adapter.serial("X2")


_SOURCES = st.sampled_from(sorted(SCALE_SOURCES | {"API", "Web", "Withings", ""}))
_ZONES = st.sampled_from(
    ["UTC", "America/Chicago", "Pacific/Chatham", "Asia/Kathmandu", "Nowhere/X"]
)


@given(
    kg=st.floats(min_value=20, max_value=300, allow_nan=False),
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2024, 6, 2)),
    seconds=st.integers(min_value=0, max_value=86399),
    source=_SOURCES,
    zone=_ZONES,
)
def test_fitbit_weights_keep_value_time_and_modality(
    kg: float, day: date, seconds: int, source: str, zone: str
) -> None:
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    entry = {"logId": 9, "date": day.isoformat(), "time": clock, "weight": kg, "source": source}
    records = FitbitRecords(user_id="U1", timezone=zone, complete_through=day, weights=(entry,))
    parsed = VALIDATOR.parse(orjson.dumps(FitbitAdapter().convert(records)), now=NOW)
    assert parsed.rejections == ()
    ((_, point),) = parsed.points
    assert point.value == pytest.approx(kg)
    expected = Modality.SENSED if source in SCALE_SOURCES else Modality.SELF_REPORTED
    assert point.modality is expected
    local = point.measured_at.astimezone(
        datetime.fromisoformat(
            FitbitAdapter().convert(records)[0]["body"]["effective_time_frame"]["date_time"]
        ).tzinfo
    )
    assert (local.date(), local.strftime("%H:%M:%S")) == (day, clock)
