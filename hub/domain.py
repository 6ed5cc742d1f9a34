"""Domain types shared by every package: readings, rejections (measures: :mod:`hub.measures`).

Types that cross the MQTT edge are frozen: once a payload is parsed, nothing
downstream can change what the gateway sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

from hub.measures import SPECS, DeviceKind, Measure

__all__ = [
    "CANONICAL_UNIT",
    "NON_LEVEL_STATISTICS",
    "SUPPORTED_VERSIONS",
    "DeviceKind",
    "Dispense",
    "Measure",
    "Modality",
    "ParsedMessage",
    "ParsedPoint",
    "Rejection",
    "RejectionCode",
]


#: The one unit every stored value of a measure is normalized to.
CANONICAL_UNIT: Final[Mapping[Measure, str]] = MappingProxyType(
    {m: s.unit for m, s in SPECS.items()}
)

#: Descriptive statistics whose value is not a level of the measure (a count,
#: a spread, a sum): such points are not readings and are rejected.
NON_LEVEL_STATISTICS = frozenset(
    {"count", "sum", "variance", "standard deviation", "quartile deviation"}
)

#: Schema versions the hub accepts per measure (contract section 1).
SUPPORTED_VERSIONS: Final[Mapping[Measure, tuple[str, ...]]] = MappingProxyType(
    {m: s.versions for m, s in SPECS.items()}
)


class Modality(enum.StrEnum):
    SENSED = "sensed"
    SELF_REPORTED = "self-reported"


class RejectionCode(enum.StrEnum):
    """Machine-readable reasons a reading or dispense was not stored (contract sections 1, 2)."""

    MALFORMED_JSON = "malformed_json"
    SCHEMA_INVALID = "schema_invalid"
    SCHEMA_UNSUPPORTED = "schema_unsupported"
    UNIT_UNSUPPORTED = "unit_unsupported"
    IMPLAUSIBLE_VALUE = "implausible_value"
    TIME_IN_FUTURE = "time_in_future"
    #: Measured longer before its receipt than ``max_reading_age_days``: a device clock fault.
    TIME_TOO_OLD = "time_too_old"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_NOT_ON_GATEWAY = "device_not_on_gateway"
    MEASURE_NOT_FOR_DEVICE = "measure_not_for_device"
    DEVICE_DISABLED = "device_disabled"
    #: The device was retired (returned, or replaced by another serial).
    DEVICE_RETIRED = "device_retired"
    TOPIC_INVALID = "topic_invalid"
    UNKNOWN_FEED = "unknown_feed"
    FEED_DISABLED = "feed_disabled"
    STATISTIC_UNSUPPORTED = "statistic_unsupported"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class ParsedPoint:
    """One valid Open mHealth data point, normalized to the canonical unit.

    ``value`` is the measure's value (systolic for blood pressure) and
    ``value2`` the diastolic pressure, ``None`` for other measures. The
    ``original_*`` fields keep what the gateway sent. ``descriptive_statistic``
    is set when the value summarizes several measurements (e.g. ``minimum``);
    only statistics that are themselves a level of the measure are accepted.
    """

    measure: Measure
    schema_version: str
    measured_at: datetime
    value: float
    value2: float | None
    original_value: float
    original_value2: float | None
    original_unit: str
    modality: Modality
    header_id: str
    descriptive_statistic: str | None = None
    #: Open mHealth ``temporal_relationship_to_physical_activity``, if sent.
    activity: str | None = None
    #: ``header.lastmile_sequence``: the device's own count of readings, if sent.
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one data point (or a whole message, ``index`` None) was not stored."""

    code: RejectionCode
    detail: str
    header_id: str | None = None
    index: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one MQTT payload turned into: points to store and rejections."""

    points: tuple[tuple[int, ParsedPoint], ...]
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class Dispense:
    """One validated dispense, ready to store."""

    identifier: str | None  # "system|value" of the first identifier, if any
    patient_system: str
    patient_value: str
    code_system: str | None
    code: str | None
    medication: str | None
    drug: str  # known ingredients, '+'-joined ('' when none)
    classes: frozenset[str]
    filled_on: date
    days_supply: int
    quantity: float | None

    @property
    def dedup_key(self) -> str:
        """The contract's idempotency key: the identifier, else patient + drug + fill date."""
        if self.identifier:
            return f"id:{self.identifier}"
        what = f"{self.code_system}|{self.code}" if self.code else f"text|{self.medication}"
        who = f"{self.patient_system}|{self.patient_value}"
        return f"fill:{who}:{what}:{self.filled_on.isoformat()}"


@dataclass(frozen=True, slots=True)
class DeviceMeta:
    """One valid metadata report; every field but the times may be absent."""

    battery_percent: int | None
    firmware: str | None
    signal_dbm: int | None
    #: When the device says it took these values (the receipt time if it did not say).
    reported_at: datetime
    received_at: datetime
