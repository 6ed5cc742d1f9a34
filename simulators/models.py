"""Types of the simulated cohort: patients, their devices, and the events they send.

Everything here is simulated: no real patient ever appears in a simulator.
All types are frozen; times are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from hub.domain import DeviceKind


class Pathway(enum.StrEnum):
    """A care pathway; the values are the hub's ``patients.pathway`` values."""

    CHF = "CHF"
    COPD = "COPD"
    HTN = "HTN"
    DEFAULT = "default"


class Scenario(enum.StrEnum):
    """A clinical story the detectors should notice (or, for the last two, missing data).

    ``NON_ADHERENT``: the patient stops measuring at its onset. ``SPORADIC``:
    from its onset the patient skips most days, 60-75 % (its
    ``magnitude`` is the share of days missed), so that a 30-day RPM period
    can fall short of the 16 days with data that 99454 needs.
    """

    FLUID_GAIN = "fluid_gain"
    HYPERTENSIVE_CRISIS = "hypertensive_crisis"
    SPO2_DECLINE = "spo2_decline"
    NON_ADHERENT = "non_adherent"
    SPORADIC = "sporadic"


class EventKind(enum.StrEnum):
    NORMAL = "normal"
    LATE_BATCH = "late_batch"
    MALFORMED = "malformed"


class Malformation(enum.StrEnum):
    """How a malformed message is broken (the hub's expected rejection in brackets)."""

    TRUNCATED_JSON = "truncated_json"  # malformed_json
    UNIT_UNSUPPORTED = "unit_unsupported"  # unit_unsupported or schema_invalid
    IMPLAUSIBLE_VALUE = "implausible_value"  # implausible_value
    TIME_IN_FUTURE = "time_in_future"  # time_in_future


@dataclass(frozen=True, slots=True)
class Baseline:
    """A patient's personal normal values."""

    weight_kg: float
    systolic: float
    diastolic: float
    spo2: float
    resting_hr: float


@dataclass(frozen=True, slots=True)
class Routine:
    """When a patient measures, in minutes after midnight UTC, and how reliably."""

    wake_minute: int
    evening_minute: int
    spo2_twice: bool
    miss_day_rate: float


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One scenario of a patient: it starts at ``onset`` and develops over ``days``.

    ``magnitude`` is per scenario: kg gained per day (fluid gain), mmHg added to
    systolic (crisis), SpO2 points lost in total (decline), the share of days
    missed (sporadic); unused for non-adherence, whose onset is the last
    moment the patient measures.
    """

    kind: Scenario
    onset: datetime
    days: float
    magnitude: float


@dataclass(frozen=True, slots=True)
class SimDevice:
    serial: str
    kind: DeviceKind
    source_name: str
    weight_unit: str = "kg"


@dataclass(frozen=True, slots=True)
class SimPatient:
    """One simulated patient, who has one gateway of their own.

    ``index`` (not the ids, which carry the cohort's prefix) seeds what the
    patient measures, so a prefix changes names and never data.
    """

    index: int
    sim_id: str
    pathway: Pathway
    gateway_key: str
    discharge_date: date
    devices: tuple[SimDevice, ...]
    baseline: Baseline
    routine: Routine
    scenarios: tuple[ScenarioSpec, ...]

    def scenario(self, kind: Scenario) -> ScenarioSpec | None:
        return next((s for s in self.scenarios if s.kind is kind), None)

    def device(self, kind: DeviceKind) -> SimDevice | None:
        return next((d for d in self.devices if d.kind is kind), None)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One MQTT message a simulated gateway sends at ``due`` (UTC).

    ``n_points`` counts the data points in the payload and ``n_valid`` those the
    hub should store (0 for a malformed message); ``malformation`` says how a
    malformed one is broken.
    """

    due: datetime
    gateway_key: str
    device_serial: str
    payload: bytes
    kind: EventKind
    n_points: int = 1
    n_valid: int = 1
    malformation: Malformation | None = None
