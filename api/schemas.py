"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from hub.discharge_risk import DischargeInputs, DischargeRiskError
from hub.domain import DeviceKind, Measure
from hub.exceptions import PathwayError
from hub.limits import LEGACY_KEYS
from hub.pathways import get_pathway
from hub.patients import check_timezone

Pathway = Literal["CHF", "COPD", "HTN", "default"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentifierIn(_Body):
    system: str = Field(min_length=1, max_length=200)
    value: str = Field(min_length=1, max_length=200)


class DischargeInputsIn(_Body):
    """The index stay as known at enrollment (LACE and HOSPITAL inputs); all optional."""

    length_of_stay_days: int | None = Field(
        default=None, ge=0, le=3650, description="Whole days from admission to discharge."
    )
    acute_admission: bool | None = Field(
        default=None, description="LACE acuity: an emergent (not elective) admission."
    )
    charlson_index: int | None = Field(default=None, ge=0, le=40)
    ed_visits_6m: int | None = Field(
        default=None, ge=0, le=365, description="ED visits in the 6 months before admission."
    )
    haemoglobin_g_dl: float | None = Field(default=None, gt=0, le=30, description="At discharge.")
    sodium_mmol_l: float | None = Field(default=None, ge=80, le=200, description="At discharge.")
    oncology_discharge: bool | None = None
    procedure_during_stay: bool | None = None
    admissions_12m: int | None = Field(
        default=None, ge=0, le=365, description="Admissions in the 12 months before this one."
    )
    nonelective_admission: bool | None = Field(
        default=None,
        description="HOSPITAL's urgent/emergent index admission; default: acute_admission.",
    )

    def to_inputs(self) -> DischargeInputs:
        return DischargeInputs(**self.model_dump())

    @classmethod
    def of(cls, inputs: DischargeInputs) -> DischargeInputsIn:
        """The stored inputs as they were (checked when they came in)."""
        return cls.model_construct(**asdict(inputs))

    @model_validator(mode="after")
    def _scorable(self) -> DischargeInputsIn:
        try:
            self.to_inputs()
        except DischargeRiskError as exc:
            raise ValueError(str(exc)) from exc
        return self


Condition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


_OVERRIDES = (
    "Overrides of the pathway's values for this patient (docs/pathways.md), one value a "
    "key: a safety limit as `limits.<measure>.<key>` with the keys of hub/limits.py "
    "(`limits.oxygen-saturation.low`, `limits.heart-rate.high_at_once`, "
    "`limits.blood-pressure.systolic.high`, `limits.blood-pressure.high_severity`), any "
    "other value as `<table>.<key>` (`heart_failure.limit`, `schedule.body-weight`). "
    "Checked against the pathway. The old names of the limits are still accepted, and "
    "stored and returned under the new keys: "
    + ", ".join(f"`{old}`" for old in LEGACY_KEYS if not old.startswith("thresholds."))
    + " (a threshold also as `thresholds.<name>`)."
)


class PatientIn(_Body):
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=20)
    coordinators: list[UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Users (coordinators or supervisors) whose panel the patient joins; "
        "a coordinator enrolling a patient without naming any joins it themself.",
    )
    pathway: Pathway = "default"
    conditions: list[Condition] = Field(
        default_factory=list, max_length=50, description="Conditions, free text or codes."
    )
    discharge_date: date | None = None
    discharge_inputs: DischargeInputsIn = Field(
        default_factory=DischargeInputsIn,
        description="The index stay; LACE, HOSPITAL and the discharge risk are computed "
        "from it at enrollment (a score missing an input is not computed).",
    )
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="IANA time zone of the patient's home: the days of the daily models.",
    )

    threshold_overrides: dict[str, float | int | str] = Field(
        default_factory=dict,
        max_length=50,
        description=_OVERRIDES,
        examples=[
            {"limits.oxygen-saturation.low": 85, "limits.blood-pressure.low_severity": "medium"},
            {"limits.blood-pressure.systolic.high": 170, "schedule.body-weight": 48},
        ],
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _valid_overrides(self) -> PatientIn:
        try:
            get_pathway(self.pathway).with_overrides(self.threshold_overrides)
        except PathwayError as exc:
            raise ValueError(str(exc)) from exc
        return self


class PatientOut(BaseModel):
    id: UUID
    identifiers: list[IdentifierIn]
    pathway: Pathway
    conditions: list[str]
    discharge_date: date | None
    discharge_inputs: DischargeInputsIn
    lace: int | None = Field(description="LACE index 0-19; null when an input is missing.")
    hospital: int | None = Field(description="HOSPITAL score 0-13; null when an input is missing.")
    discharge_risk: float | None = Field(
        description="0..1 ranking number: the mean of LACE/19 and HOSPITAL/13 (those computed)."
    )
    enrolled_at: datetime
    timezone: str
    threshold_overrides: dict[str, float | int | str]
    coordinators: list[UUID]


class CoordinatorsIn(_Body):
    coordinators: list[UUID] = Field(min_length=1, max_length=20)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int = Field(description="Seconds until the token expires (if used).")


class PasswordChangeIn(_Body):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class UserIn(_Body):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._@-]{2,63}$")
    password: str = Field(min_length=12, max_length=1024)
    role: Literal["coordinator", "supervisor", "admin"]
    display_name: str | None = Field(default=None, max_length=200)
    supervisor_id: UUID | None = None


class UserOut(BaseModel):
    id: UUID | None
    username: str
    role: str
    display_name: str | None = None
    supervisor_id: UUID | None = None


class GatewayIn(_Body):
    label: str | None = Field(default=None, max_length=200)


class GatewayCreated(BaseModel):
    id: str
    label: str | None
    mqtt_username: str
    mqtt_password: str = Field(description="Shown once; store it on the gateway.")
    client_id: str
    readings_topic: str
    errors_topic: str
    status_topic: str


class FeedIn(_Body):
    label: str | None = Field(default=None, max_length=200)


class FeedCreated(BaseModel):
    id: str
    label: str | None
    mqtt_username: str
    mqtt_password: str = Field(description="Shown once; store it in the pharmacy's system.")
    client_id: str
    dispenses_topic: str
    errors_topic: str


class DeviceIn(_Body):
    serial: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    kind: DeviceKind
    gateway_id: str
    patient_id: UUID


class DeviceOut(BaseModel):
    id: int
    serial: str
    kind: DeviceKind
    gateway_id: str
    patient_id: UUID
    status: str
    registered_at: datetime
    readings_topic: str


class ReadingPoint(BaseModel):
    measured_at: datetime
    value: float
    value2: float | None
    unit: str
    original_value: float
    original_value2: float | None
    original_unit: str
    modality: str
    descriptive_statistic: str | None
    device_id: int
    header_id: str
    received_at: datetime


class ReadingBucket(BaseModel):
    bucket: datetime
    mean: float
    min: float
    max: float
    mean2: float | None
    min2: float | None
    max2: float | None
    count: int


class ReadingsOut(BaseModel):
    patient_id: UUID
    measure: Measure
    unit: str
    start: datetime
    end: datetime
    bucket: str | None
    points: list[ReadingPoint] | None = None
    buckets: list[ReadingBucket] | None = None


class DispenseOutcome(BaseModel):
    index: int = Field(description="Position of the entry in the Bundle or NDJSON body.")
    status: Literal["stored", "held", "duplicate", "rejected"] = Field(
        description="held: stored, waiting for its patient to be enrolled"
    )
    code: str | None = None
    detail: str | None = None


class DispenseReport(BaseModel):
    stored: int = Field(description="New dispenses, held ones included.")
    held: int
    duplicates: int
    rejected: int
    entries: list[DispenseOutcome]


class LastFill(BaseModel):
    drug: str
    filled_on: date
    days_supply: int


class ClassAdherence(BaseModel):
    drug_class: str
    label: str
    pdc: float | None = Field(description="PQA PDC over the period; null before two fills.")
    covered_days: int | None
    period_days: int | None
    threshold: float
    adherent: bool | None
    last_fill: LastFill
    next_refill_due: date = Field(description="The first day without supply.")
    overdue: bool


class DeviceDays(BaseModel):
    days_with_data: int
    period_days: int
    start: date
    end: date


class AdherenceOut(BaseModel):
    patient_id: UUID
    as_of: date
    pdc_period_start: date
    classes: list[ClassAdherence]
    device_days: DeviceDays
