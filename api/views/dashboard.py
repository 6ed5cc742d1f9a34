"""The coordinators' dashboard: static pages under ``/app/`` and the lines its charts draw.

The dashboard is plain HTML, CSS and JavaScript modules in ``api/static``,
served as they are (no build step, nothing from another origin: the pages'
Content-Security-Policy allows this origin only). ``/`` redirects to it.

``GET /api/v1/patients/{patient_id}/thresholds`` gives, per measure, the
effective limits of the patient's pathway (with the patient's overrides) as
the lines a chart draws; a weight gain is relative to the patient's own
recent lowest weight, so it is given as a gain over a window instead. It
also names the patient's overrides as people read them (``SpO2 low``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from api.deps import ConnDep, PatientIdDep
from hub import patients
from hub.domain import CANONICAL_UNIT, Measure
from hub.limits import MeasureLimits, override_label, value_key
from hub.measures import spec
from hub.pathway_params import Thresholds
from hub.pathways import get_pathway

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: Only this origin: no CDN, no inline script, nothing fetched from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # Revalidate every time (ETag/Last-Modified make that cheap): a new
    # release is seen at the next load, never half old and half new.
    (b"cache-control", b"no-cache"),
)


class DashboardFiles(StaticFiles):
    """``StaticFiles`` whose answers carry the dashboard's security and cache headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in _HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + list(_HEADERS)
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


router = APIRouter()
router.mount("/app", DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


class ThresholdLine(BaseModel):
    """A horizontal line: a reading beyond it breaks a safety limit."""

    #: The override key of the limit (``limits.oxygen-saturation.low``).
    key: str
    label: str
    value: float
    #: ``upper``: a reading above (or at) it breaks the limit; ``lower``: below it.
    bound: Literal["upper", "lower"]
    #: Which value it applies to: ``value``, or ``value2`` (diastolic pressure).
    series: Literal["value", "value2"] = "value"


class WeightGain(BaseModel):
    """A gain over the lowest weight within the last ``hours``; drawn above that weight."""

    key: str
    label: str
    kg: float
    hours: float


class MeasureThresholds(BaseModel):
    measure: Measure
    unit: str
    lines: list[ThresholdLine]
    gains: list[WeightGain]


class OwnValue(BaseModel):
    """One of the patient's overrides, as people read it."""

    key: str
    #: ``SpO2 low``, ``Blood pressure systolic high``: the measure's label from the spec.
    label: str
    value: float | int | str
    #: The unit of ``value`` (empty for a severity or a flag).
    unit: str


class ThresholdsOut(BaseModel):
    patient_id: UUID
    pathway: str
    #: The patient's overrides of the pathway's values, as enrolled.
    overrides: dict[str, float | int | str]
    #: The same, labelled, by key.
    own_limits: list[OwnValue]
    measures: list[MeasureThresholds]


def measure_thresholds(
    limits: Thresholds, by_measure: Mapping[Measure, MeasureLimits]
) -> list[MeasureThresholds]:
    """The chart lines of the per-measure limits, and weight's gains, one entry per measure.

    >>> chf = get_pathway("CHF")
    >>> [(m.measure.value, [(line.label, line.value) for line in m.lines])
    ...  for m in measure_thresholds(chf.thresholds, chf.limits)][1:3]
    [('blood-pressure', [('systolic high', 180.0), ('diastolic high', 120.0), \
('systolic low', 90.0)]), ('oxygen-saturation', [('SpO2 low', 88.0)])]
    """
    short_h, week_h = limits.weight_gain_short_hours, limits.weight_gain_week_days * 24
    gains = {
        Measure.BODY_WEIGHT: [
            WeightGain(
                key="weight_gain_short_kg",
                label=f"+{limits.weight_gain_short_kg:g} kg in {short_h:g} h",
                kg=limits.weight_gain_short_kg,
                hours=short_h,
            ),
            WeightGain(
                key="weight_gain_week_kg",
                label=f"+{limits.weight_gain_week_kg:g} kg in {week_h / 24:g} days",
                kg=limits.weight_gain_week_kg,
                hours=week_h,
            ),
        ]
    }
    entries = []
    for measure in Measure:
        own = by_measure.get(measure)
        lines = [
            ThresholdLine(
                key=f"limits.{measure}.{value_key(measure, bound.index, side.side)}",
                label=f"{spec(measure).fields[bound.index].label} {side.side}",
                value=bound.limit,
                bound="upper" if side.above else "lower",
                series="value2" if bound.index else "value",
            )
            for side in (own.sides if own else ())
            for bound in side.bounds
        ]
        if lines or measure in gains:
            entries.append(
                MeasureThresholds(
                    measure=measure,
                    unit=CANONICAL_UNIT[measure],
                    lines=lines,
                    gains=gains.get(measure, []),
                )
            )
    return entries


def own_values(overrides: Mapping[str, float | int | str]) -> list[OwnValue]:
    """A patient's overrides, labelled from the measure spec, by key.

    >>> [(v.label, v.value, v.unit) for v in own_values({"limits.oxygen-saturation.low": 86})]
    [('SpO2 low', 86, '%')]
    """
    return [
        OwnValue(key=key, label=label, value=value, unit=unit)
        for key, value in sorted(overrides.items())
        for label, unit in [override_label(key)]
    ]


@router.get("/api/v1/patients/{patient_id}/thresholds", response_model=ThresholdsOut)
def patient_thresholds(patient_id: PatientIdDep, conn: ConnDep) -> ThresholdsOut:
    """The patient's effective safety limits (pathway and overrides) as chart lines."""
    patient = patients.get_patient(conn, patient_id=patient_id)
    overrides = dict(patient.threshold_overrides)
    pathway = get_pathway(patient.pathway).with_overrides(overrides)
    return ThresholdsOut(
        patient_id=patient_id,
        pathway=patient.pathway,
        overrides=overrides,
        own_limits=own_values(overrides),
        measures=measure_thresholds(pathway.thresholds, pathway.limits),
    )
