"""Withings measure groups to Open mHealth data points: the Withings :class:`DeviceAdapter`.

A measure group (``getmeas``' ``measuregrps``) is what one device measured at
one time (``date``, Unix seconds); each of its measures is ``value * 10**unit``
in SI units, of a measure type:

====  ========================  ==============================================
type  Withings                  Open mHealth
====  ========================  ==============================================
1     weight (kg)               ``omh:body-weight:2.0``
9     diastolic BP (mmHg)       ``omh:blood-pressure:2.0`` with type 10 of the group
10    systolic BP (mmHg)        (a group with only one of the two is left out)
11    heart pulse (bpm)         ``omh:heart-rate:2.0``
54    SpO2 (%)                  ``omh:oxygen-saturation:2.0`` (pulse oximetry)
71    body temperature (°C)     ``omh:body-temperature:2.0``
====  ========================  ==============================================

A group's ``attrib`` says who it belongs to: 0, 1, 5 and 8 were captured by a
device (``sensed``), 2 and 4 typed in by the user (``self-reported``); 1 (a
device that may be shared) is still the account's by Withings' attribution.
Header ids derive from the group id and the measure, so a re-pull sends the
same points.

>>> records = WithingsRecords(user_id="363", timezone="Europe/Paris", groups=(
...     {"grpid": 12, "attrib": 0, "date": 1714543200, "category": 1, "measures": [
...         {"value": 12950, "type": 10, "unit": -2}, {"value": 81, "type": 9, "unit": 0},
...         {"value": 72, "type": 11, "unit": 0}]},
...     {"grpid": 13, "attrib": 0, "date": 1714543300, "category": 1, "measures": [
...         {"value": 37650, "type": 71, "unit": -3}]},))
>>> points = WithingsAdapter().convert(records)
>>> [(p["header"]["schema_id"]["name"], p["body"]["effective_time_frame"]["date_time"])
...  for p in points]  # doctest: +NORMALIZE_WHITESPACE
[('blood-pressure', '2024-05-01T08:00:00+02:00'), ('heart-rate', '2024-05-01T08:00:00+02:00'),
 ('body-temperature', '2024-05-01T08:01:40+02:00')]
>>> points[0]["body"]["systolic_blood_pressure"], points[2]["body"]["body_temperature"]
({'value': 129.5, 'unit': 'mmHg'}, {'value': 37.65, 'unit': 'C'})
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.adapters.base import DataPoint, DeviceAdapter, data_point, header_id
from hub.domain import Measure, Modality

VENDOR = "withings"

WEIGHT, DIASTOLIC, SYSTOLIC, HEART_PULSE, SPO2, BODY_TEMPERATURE = 1, 9, 10, 11, 54, 71
#: The measure types the hub asks ``getmeas`` for.
MEASTYPES = (WEIGHT, DIASTOLIC, SYSTOLIC, HEART_PULSE, SPO2, BODY_TEMPERATURE)
#: ``attrib`` values of a group the user typed in.
SELF_REPORTED = frozenset({2, 4})


@dataclass(frozen=True, slots=True)
class WithingsRecords:
    """What one pull fetched for an account: ``getmeas``' measure groups, as Withings sent them."""

    user_id: str
    timezone: str
    groups: tuple[dict[str, Any], ...] = ()


def real_value(measure: dict[str, Any]) -> float:
    """``value * 10**unit``, exactly in decimal before it becomes a float.

    >>> real_value({"value": 65750, "unit": -3}), real_value({"value": 20, "unit": -1})
    (65.75, 2.0)
    """
    return float(Decimal(int(measure["value"])).scaleb(int(measure["unit"])))


def zone(name: str) -> ZoneInfo:
    """The time zone named; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class WithingsAdapter(DeviceAdapter[WithingsRecords]):
    """Weight, blood pressure, heart rate, SpO2 and body temperature of one Withings account."""

    vendor: ClassVar[str] = VENDOR
    measures: ClassVar[frozenset[Measure]] = frozenset(
        {
            Measure.BODY_WEIGHT,
            Measure.BLOOD_PRESSURE,
            Measure.HEART_RATE,
            Measure.OXYGEN_SATURATION,
            Measure.BODY_TEMPERATURE,
        }
    )

    def serial(self, account_id: str) -> str:
        return f"withings-{account_id}"

    def convert(self, records: WithingsRecords) -> list[DataPoint]:
        tz = zone(records.timezone)
        points: list[DataPoint] = []
        for group in records.groups:
            if int(group.get("category", 1)) != 1:
                continue  # 2: a user objective, not a measurement
            points.extend(self._group(records.user_id, group, tz))
        return points

    def _group(self, user: str, group: dict[str, Any], tz: ZoneInfo) -> list[DataPoint]:
        at = datetime.fromtimestamp(int(group["date"]), UTC).astimezone(tz).isoformat()
        grpid = str(int(group["grpid"]))
        attrib = int(group.get("attrib", 0))
        modality = Modality.SELF_REPORTED if attrib in SELF_REPORTED else Modality.SENSED
        values = {int(m["type"]): real_value(m) for m in group["measures"]}
        frame = {"effective_time_frame": {"date_time": at}}

        def point(kind: str, schema: str, body: dict[str, Any]) -> DataPoint:
            return data_point(
                header_id(VENDOR, user, kind, grpid),
                schema,
                "2.0",
                source=f"Withings {group.get('model') or ''}".rstrip(),
                modality=modality,
                created=at,
                body={**body, **frame},
            )

        points = []
        if WEIGHT in values:
            points.append(
                point(
                    "weight",
                    "body-weight",
                    {"body_weight": {"value": values[WEIGHT], "unit": "kg"}},
                )
            )
        if SYSTOLIC in values and DIASTOLIC in values:
            points.append(
                point(
                    "blood-pressure",
                    "blood-pressure",
                    {
                        "systolic_blood_pressure": {"value": values[SYSTOLIC], "unit": "mmHg"},
                        "diastolic_blood_pressure": {"value": values[DIASTOLIC], "unit": "mmHg"},
                    },
                )
            )
        if HEART_PULSE in values:
            points.append(
                point(
                    "heart-rate",
                    "heart-rate",
                    {"heart_rate": {"value": values[HEART_PULSE], "unit": "beats/min"}},
                )
            )
        if SPO2 in values:
            points.append(
                point(
                    "spo2",
                    "oxygen-saturation",
                    {
                        "oxygen_saturation": {"value": values[SPO2], "unit": "%"},
                        "system": "peripheral capillary",
                        "measurement_method": "pulse oximetry",
                    },
                )
            )
        if BODY_TEMPERATURE in values:
            points.append(
                point(
                    "temperature",
                    "body-temperature",
                    {"body_temperature": {"value": values[BODY_TEMPERATURE], "unit": "C"}},
                )
            )
        return points
