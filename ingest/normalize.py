"""Turn one schema-valid Open mHealth data point into a :class:`ParsedPoint`.

Runs only after the point passed its schema, so shapes and enums are known;
what is left is what a schema cannot say. Every problem raises
:class:`~ingest.exceptions.PointRejectedError` with a code and a short detail that
names the field and the reason, never the value (values are PHI).

Measurement time (``measured_at``, aware UTC):

* ``effective_time_frame.date_time``;
* a ``time_interval`` stands for its end: ``end_date_time`` (with
  ``start_date_time`` or ``duration``), else ``start_date_time + duration``.
  The schemas accept an end before the start and a negative duration (the
  OMH conformance data has such a shouldPass case); neither says when the
  measurement was made, so both are ``implausible_value``;
* omh:time-interval-1.0's ``date`` + ``part_of_day`` (schema 1.x only) is that
  date, read as UTC, at a representative hour: morning 08:00, afternoon 14:00,
  evening 20:00, night 02:00 (the small hours that begin the date);
* no ``effective_time_frame`` at all (allowed by the 1.x body schemas):
  ``header.acquisition_provenance.source_creation_date_time``, else
  ``header.creation_date_time``.

Durations: ``ps``..``wk`` convert to seconds; ``Mo``/``yr`` have no fixed length,
so a point whose time needs one is ``unit_unsupported``. Date-times are RFC
3339 as format-checked by the schema; lower-case ``t``/``z`` are accepted and a
leap second (``:60``) becomes the next second; a ``date`` that passes its
pattern but does not exist, or a time outside years 1-9999 once in UTC, is
``schema_invalid``. A measurement later than ``now + future_tolerance`` is
``time_in_future``, one earlier than ``earliest`` (``now - max_age``) is
``time_too_old``; late and out-of-order times within those bounds are fine.

Values are read from the body fields the measure spec names
(:mod:`hub.measures`), convert to its canonical unit and must lie in each
field's plausible bounds (``implausible_value``); a two-field measure marked
``ordered`` (blood pressure) also needs the first above the second.
``original_unit`` is what was sent; for two fields the first's unit, or
``"<first>/<second>"`` if they differ.

>>> from datetime import timedelta
>>> point = {
...     "header": {"id": "h1", "creation_date_time": "2024-01-01T09:00:00Z",
...                "schema_id": {"namespace": "omh", "name": "body-weight", "version": "2.0"}},
...     "body": {"body_weight": {"value": 154.3, "unit": "lb"},
...              "effective_time_frame": {"date_time": "2024-01-01T07:30:00-05:00"}},
... }
>>> parsed = normalize(Measure.BODY_WEIGHT, "2.0", point,
...                    limit=datetime(2024, 1, 2, tzinfo=UTC))
>>> round(parsed.value, 2), parsed.original_unit, parsed.measured_at.isoformat()
(69.99, 'lb', '2024-01-01T12:30:00+00:00')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Final

from hub.domain import (
    NON_LEVEL_STATISTICS,
    Measure,
    Modality,
    ParsedPoint,
    RejectionCode,
)
from hub.measures import SPECS, Bounds, MeasureSpec
from ingest.exceptions import PointRejectedError
from ingest.units import duration_seconds

#: Representative UTC hour of each omh:part-of-day-1.0 value.
PART_OF_DAY_HOUR: Final[Mapping[str, int]] = MappingProxyType(
    {"morning": 8, "afternoon": 14, "evening": 20, "night": 2}
)

#: Body property holding the value, for single-valued measures (from the spec).
VALUE_FIELD: Final[Mapping[Measure, str]] = MappingProxyType(
    {m: s.field.name for m, s in SPECS.items() if len(s.fields) == 1}
)

_MODALITY: Final = MappingProxyType({m.value: m for m in Modality})
_INVALID: Final = RejectionCode.SCHEMA_INVALID
_IMPLAUSIBLE: Final = RejectionCode.IMPLAUSIBLE_VALUE
_INTERVAL: Final = "body.effective_time_frame.time_interval"


def normalize(
    measure: Measure,
    version: str,
    point: dict[str, Any],
    *,
    limit: datetime,
    earliest: datetime | None = None,
) -> ParsedPoint:
    """The :class:`ParsedPoint` of a schema-valid data point.

    ``limit`` is the latest acceptable measurement time (now plus tolerance),
    ``earliest`` the earliest (now minus the maximum age; ``None``: no bound).
    Raises :class:`PointRejectedError`.
    """
    header = point["header"]
    body = point["body"]
    original2: float | None = None
    value2: float | None = None
    described = SPECS[measure]
    fields = described.fields
    first = fields[0]
    original, value, unit = _reading(body, first.name, described)
    if len(fields) == 1:
        _check(value, first.plausible, first.name)
    else:
        second = fields[1]
        original2, value2, unit2 = _reading(body, second.name, described)
        _check(value, first.plausible, first.name)
        _check(value2, second.plausible, second.name)
        if described.ordered and value <= value2:
            raise PointRejectedError(
                RejectionCode.IMPLAUSIBLE_VALUE, f"{first.name} is not above {second.name}"
            )
        if unit2 != unit:
            unit = f"{unit}/{unit2}"
    statistic = body.get("descriptive_statistic")
    if statistic in NON_LEVEL_STATISTICS:
        raise PointRejectedError(
            RejectionCode.STATISTIC_UNSUPPORTED,
            f"descriptive_statistic {statistic!r} is not a level of {measure.value}; "
            "send individual measurements or a minimum/maximum/average/median",
        )
    measured_at = measurement_time(header, body)
    if measured_at > limit:
        raise PointRejectedError(
            RejectionCode.TIME_IN_FUTURE,
            "effective time is later than now plus the allowed clock skew",
        )
    if earliest is not None and measured_at < earliest:
        raise PointRejectedError(
            RejectionCode.TIME_TOO_OLD,
            "effective time is earlier than the oldest reading accepted; check the device clock",
        )
    provenance = header.get("acquisition_provenance")
    modality = Modality.SENSED
    if provenance is not None:
        modality = _MODALITY.get(provenance.get("modality", "sensed"), Modality.SENSED)
    # Positional (field order of ParsedPoint): noticeably faster than keywords.
    return ParsedPoint(
        measure, version, measured_at, value, value2, original, original2, unit, modality,
        header["id"], statistic, body.get("temporal_relationship_to_physical_activity"),
        _sequence(header),
    )  # fmt: skip


#: ``header.lastmile_sequence`` is stored as a PostgreSQL bigint.
_MAX_SEQUENCE: Final = 2**63 - 1


def _sequence(header: dict[str, Any]) -> int | None:
    """``header.lastmile_sequence``: a JSON integer from 0 to 2**63 - 1, or absent.

    Lastmile's own optional header field (the OMH header allows additional
    properties): the device's count of the readings it produced.

    >>> _sequence({"lastmile_sequence": 41}), _sequence({})
    (41, None)
    >>> codes = []
    >>> for wrong in (41.0, "41", -1, True, 2**63):
    ...     try:
    ...         _sequence({"lastmile_sequence": wrong})
    ...     except PointRejectedError as exc:
    ...         codes.append(exc.code.value)
    >>> codes == ["schema_invalid"] * 5
    True
    """
    if "lastmile_sequence" not in header:
        return None
    value = header["lastmile_sequence"]
    if type(value) is not int or not 0 <= value <= _MAX_SEQUENCE:
        raise PointRejectedError(
            RejectionCode.SCHEMA_INVALID,
            "header.lastmile_sequence must be an integer from 0 to 2**63 - 1",
        )
    return value


def _reading(body: dict[str, Any], field: str, described: MeasureSpec) -> tuple[float, float, str]:
    """(value as sent, value in the canonical unit, unit as sent)."""
    unit_value = body[field]
    unit = unit_value["unit"]
    original = float(unit_value["value"])
    conversion = described.units.get(unit)
    if conversion is None:
        raise PointRejectedError(
            RejectionCode.UNIT_UNSUPPORTED,
            f"body.{field}.unit {_clip(unit)!r} cannot be converted to {described.unit}",
        )
    return original, original * conversion.factor + conversion.offset, unit


def _check(value: float, bounds: Bounds, field: str) -> None:
    # Also false for NaN, and the bounds are finite, so infinities fail too.
    if not bounds.low <= value <= bounds.high:
        raise PointRejectedError(
            RejectionCode.IMPLAUSIBLE_VALUE,
            f"{field} is outside the plausible range {bounds.describe()}",
        )


def measurement_time(header: dict[str, Any], body: dict[str, Any]) -> datetime:
    """When the measurement was made, aware UTC (rules in the module docstring)."""
    frame = body.get("effective_time_frame")
    if frame is None:
        provenance = header.get("acquisition_provenance")
        text = None if provenance is None else provenance.get("source_creation_date_time")
        if text is not None:
            return parse_timestamp(text, "header.acquisition_provenance.source_creation_date_time")
        return parse_timestamp(header["creation_date_time"], "header.creation_date_time")
    text = frame.get("date_time")
    if text is not None:
        return parse_timestamp(text, "body.effective_time_frame.date_time")
    return _interval_time(frame["time_interval"])


def _interval_time(interval: dict[str, Any]) -> datetime:
    start = interval.get("start_date_time")
    end = interval.get("end_date_time")
    duration = interval.get("duration")
    seconds = None if duration is None else _duration(duration)
    if end is not None and (start is not None or duration is not None):
        end_at = parse_timestamp(end, f"{_INTERVAL}.end_date_time")
        if start is not None and end_at < parse_timestamp(start, f"{_INTERVAL}.start_date_time"):
            raise PointRejectedError(_IMPLAUSIBLE, f"{_INTERVAL} ends before it starts")
        return end_at
    if start is not None and duration is not None:
        start_at = parse_timestamp(start, f"{_INTERVAL}.start_date_time")
        if seconds is None:
            raise PointRejectedError(
                RejectionCode.UNIT_UNSUPPORTED,
                f"{_INTERVAL}.duration.unit {_clip(duration['unit'])!r} has no fixed length;"
                " send end_date_time instead",
            )
        try:
            return start_at + timedelta(seconds=seconds)
        except OverflowError:
            raise PointRejectedError(_INVALID, f"{_INTERVAL} ends out of range") from None
    day_text = interval["date"]
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise PointRejectedError(_INVALID, f"{_INTERVAL}.date is not a calendar date") from None
    return datetime.combine(day, time(PART_OF_DAY_HOUR[interval["part_of_day"]]), tzinfo=UTC)


def _duration(duration: dict[str, Any]) -> float | None:
    """Seconds of a duration-unit-value, None for ``Mo``/``yr``."""
    value = duration["value"]
    if not value >= 0 or not math.isfinite(value):
        raise PointRejectedError(_IMPLAUSIBLE, f"{_INTERVAL}.duration is negative")
    return duration_seconds(value, duration["unit"])


def parse_timestamp(text: str, where: str) -> datetime:
    """An RFC 3339 date-time (already format-checked) as an aware UTC datetime.

    >>> parse_timestamp("2016-12-31t23:59:60z", "x").isoformat()
    '2017-01-01T00:00:00+00:00'
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_unusual(text, where)
    if parsed.tzinfo is None:
        raise PointRejectedError(_INVALID, f"{where} has no time zone offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise PointRejectedError(_INVALID, f"{where} is out of range") from None


def _parse_unusual(text: str, where: str) -> datetime:
    """Lower-case ``t``/``z`` and leap seconds, which RFC 3339 allows."""
    upper = text.upper()
    leap = upper[17:19] == "60"
    if leap:
        upper = f"{upper[:17]}59{upper[19:]}"
    try:
        parsed = datetime.fromisoformat(upper)
        return parsed + timedelta(seconds=1) if leap else parsed
    except (ValueError, OverflowError):
        raise PointRejectedError(_INVALID, f"{where} is not a valid date-time") from None


def _clip(text: str, size: int = 32) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
