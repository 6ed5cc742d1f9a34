"""Types of the streaming detection: what goes in, what comes out."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hub.domain import Measure


@dataclass(frozen=True, slots=True)
class StreamReading:
    """One stored reading, as the detectors see it (canonical units).

    ``value2`` is the diastolic pressure of a blood-pressure reading.
    """

    patient_id: UUID
    device_id: int
    measure: Measure
    measured_at: datetime
    value: float
    value2: float | None
    received_at: datetime
    #: Temporal relationship to physical activity as sent ('at rest', ...).
    activity: str | None = None


class AlertKind(enum.StrEnum):
    """What an alert is about; one open alert per patient and kind."""

    WEIGHT_GAIN = "weight_gain"
    BP_HIGH = "bp_high"
    BP_LOW = "bp_low"
    SPO2_LOW = "spo2_low"
    SPO2_DROP = "spo2_drop"
    HR_HIGH = "hr_high"
    HR_LOW = "hr_low"
    #: Body temperature above a pathway's ``limits.body-temperature.high``.
    FEVER = "fever"
    #: Body temperature below a pathway's ``limits.body-temperature.low``.
    HYPOTHERMIA = "hypothermia"
    RESPIRATORY_DECLINE = "respiratory_decline"
    MISSED_READINGS = "missed_readings"
    DEVICE_NEVER_ACTIVE = "device_never_active"
    GATEWAY_OFFLINE = "gateway_offline"
    #: Readings are overdue because of a device (low battery, gateway offline).
    DEVICE_PROBLEM = "device_problem"
    #: Readings a device numbered (header.lastmile_sequence) never arrived.
    READING_GAP = "reading_gap"
    FREQUENCY_DROP = "frequency_drop"
    REFILL_OVERDUE = "refill_overdue"
    LOW_PDC = "low_pdc"
    #: A transitional-care episode's interactive contact (2 business days after
    #: the discharge) was not recorded by its deadline.
    TCM_CONTACT_MISSED = "tcm_contact_missed"
    #: A transitional-care episode's face-to-face visit (7 days after the
    #: discharge for high complexity, 14 for moderate) was not recorded by its deadline.
    TCM_VISIT_MISSED = "tcm_visit_missed"


#: The measures an alert of each kind is about (the charts that mark it);
#: kinds not listed concern no one measure.
KIND_MEASURES: Mapping[AlertKind, tuple[Measure, ...]] = {
    AlertKind.WEIGHT_GAIN: (Measure.BODY_WEIGHT,),
    AlertKind.BP_HIGH: (Measure.BLOOD_PRESSURE,),
    AlertKind.BP_LOW: (Measure.BLOOD_PRESSURE,),
    AlertKind.SPO2_LOW: (Measure.OXYGEN_SATURATION,),
    AlertKind.SPO2_DROP: (Measure.OXYGEN_SATURATION,),
    AlertKind.HR_HIGH: (Measure.HEART_RATE,),
    AlertKind.HR_LOW: (Measure.HEART_RATE,),
    AlertKind.RESPIRATORY_DECLINE: (Measure.OXYGEN_SATURATION, Measure.HEART_RATE),
    AlertKind.FEVER: (Measure.BODY_TEMPERATURE,),
    AlertKind.HYPOTHERMIA: (Measure.BODY_TEMPERATURE,),
}


#: The alert kind of a breach of a pathway's per-measure limits
#: (``limits.<measure>`` in ``pathways.toml``, :mod:`hub.limits`): (measure,
#: above the high limit) -> kind. A pathway may limit only the sides listed here.
LIMIT_KINDS: Mapping[tuple[Measure, bool], AlertKind] = {
    (Measure.BLOOD_PRESSURE, True): AlertKind.BP_HIGH,
    (Measure.BLOOD_PRESSURE, False): AlertKind.BP_LOW,
    (Measure.OXYGEN_SATURATION, False): AlertKind.SPO2_LOW,
    (Measure.HEART_RATE, True): AlertKind.HR_HIGH,
    (Measure.HEART_RATE, False): AlertKind.HR_LOW,
    (Measure.BODY_TEMPERATURE, True): AlertKind.FEVER,
    (Measure.BODY_TEMPERATURE, False): AlertKind.HYPOTHERMIA,
}

#: What a reason calls a limit on several values at once, by the kind of its
#: breach ("at or above the crisis limit 180/120 mmHg": the guideline's
#: hypertensive crisis); plain "limit" for a kind not listed.
LIMIT_NAMES: Mapping[AlertKind, str] = {AlertKind.BP_HIGH: "crisis limit"}


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


#: Severities from least to most severe.
SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def severity_rank(severity: Severity) -> int:
    """0 for ``low`` up to 3 for ``critical``."""
    return SEVERITY_ORDER.index(severity)


@dataclass(frozen=True, slots=True)
class Detection:
    """Evidence that something is wrong, with its reasons.

    ``source`` names the rule or model (``rule:weight_gain_72h``,
    ``model:weight_drift``); ``observed`` holds the values that fired it and
    ``baseline`` what they were compared against (a threshold, a personal
    level); the window is the span of readings that make the evidence.
    ``reason`` is one sentence a coordinator can read.
    """

    patient_id: UUID
    kind: AlertKind
    severity: Severity
    source: str
    measure: Measure | None
    observed: Mapping[str, float]
    baseline: Mapping[str, float]
    window_start: datetime
    window_end: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Closure:
    """The cause of an alert is gone: no detector of ``kind`` has an open episode.

    ``at`` is the measurement time of the reading that showed it; ``reason``
    is one sentence a coordinator can read (what is back to normal, against
    which baseline). The alert of ``kind``, if unresolved, resolves
    automatically with this reason.
    """

    patient_id: UUID
    kind: AlertKind
    at: datetime
    source: str
    reason: str
