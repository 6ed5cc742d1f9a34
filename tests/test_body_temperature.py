"""Body temperature, added as one entry of the measure spec: units with offsets,
the fever/hypothermia rule where a pathway limits it, and the simulator's points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hub.alerting import AlertKind
from hub.domain import CANONICAL_UNIT, DeviceKind, Measure
from hub.pathways import get_pathway
from ingest.units import from_canonical, to_canonical
from ingest.validation import Validator
from simulators import omh
from streaming.detectors import MeasureLimit, Observation, build_detectors

T = Measure.BODY_TEMPERATURE
AT = datetime(2025, 3, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit", "celsius"),
    [(98.6, "F", 37.0), (32, "F", 0.0), (212, "F", 100.0), (310.15, "K", 37.0), (36.6, "C", 36.6)],
)
def test_fahrenheit_and_kelvin_convert_with_their_offsets(
    value: float, unit: str, celsius: float
) -> None:
    assert to_canonical(T, value, unit) == pytest.approx(celsius)
    assert from_canonical(T, celsius, unit) == pytest.approx(value)
    assert CANONICAL_UNIT[T] == "C"
    assert T in DeviceKind.THERMOMETER.measures
    assert T not in DeviceKind.SCALE.measures


def _parse(body: dict[str, object], version: str = "4.0") -> object:
    point = omh.data_point(
        body, T.value, header_id="t1", created=AT, source_name="T", version=version
    )
    validator = Validator(future_tolerance=timedelta(minutes=5))
    return validator.parse(orjson.dumps(point), now=AT + timedelta(minutes=1))


def test_a_simulated_fahrenheit_reading_is_stored_in_celsius() -> None:
    message = _parse(omh.measure_body(T, 38.5, AT, unit="F"))
    ((_, point),) = message.points  # type: ignore[attr-defined]
    assert (point.original_unit, point.value) == ("F", pytest.approx(38.5, abs=0.01))
    too_hot = _parse(omh.measure_body(T, 47.0, AT))
    (rejection,) = too_hot.rejections  # type: ignore[attr-defined]
    assert rejection.code == "implausible_value"
    assert "25-45 C" in rejection.detail


def test_fever_and_hypothermia_are_watched_where_the_pathway_limits_them() -> None:
    assert build_detectors(T, get_pathway("CHF")) == ()
    rules = build_detectors(T, get_pathway("COPD"))
    assert [(type(r), r.kind) for r in rules] == [
        (MeasureLimit, AlertKind.FEVER),
        (MeasureLimit, AlertKind.HYPOTHERMIA),
    ]
    fever, hypothermia = rules
    assert fever.update(Observation(AT, 37.5)) is None
    finding = fever.update(Observation(AT + timedelta(hours=1), 39.4))
    assert finding is not None
    assert (finding.kind, finding.severity.value, finding.confirmed) == (
        AlertKind.FEVER,
        "high",
        True,
    )
    assert finding.reason == "Temperature 39.4 °C is above 37.9 °C."
    cold = hypothermia.update(Observation(AT, 34.6))
    assert cold is not None
    assert (cold.kind, cold.severity.value) == (AlertKind.HYPOTHERMIA, "low")  # unconfirmed
    assert (
        get_pathway("COPD").with_overrides({"limits.body-temperature.high": 38.4}).limits[T]["high"]
        == 38.4
    )
