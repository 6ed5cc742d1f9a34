"""Fitbit JSON to Open mHealth data points: the Fitbit :class:`DeviceAdapter`.

* Weight logs (``body/log/weight``, kilograms) → ``omh:body-weight:2.0`` at the
  log's local date and time. A weight from an Aria scale (``source``
  ``Aria``/``AriaAir``) is ``sensed``; one typed in the app or on the web
  (``Web``, ``API``, anything else) is ``self-reported``.
* SpO2 daily summaries → ``omh:oxygen-saturation:2.0``, the night's
  ``average`` over the local calendar day Fitbit files it under, measured by
  pulse oximetry at the wrist (``sensed``).
* Resting heart rate (``activities-heart``'s ``restingHeartRate``) →
  ``omh:heart-rate:2.0`` over the local calendar day, ``at rest`` (``sensed``).

Fitbit's dates and times are local to the account's profile time zone; they
become RFC 3339 times with that zone's offset. A daily summary is a time
interval over its local day (the hub files it at the day's end), and is sent
only once the day is over (``complete_through``), since Fitbit revises it
until then. Header ids derive from Fitbit's keys (a weight's ``logId``, a
summary's date), so a re-pull sends the same points.

>>> from datetime import date
>>> records = FitbitRecords(
...     user_id="ABC123", timezone="Europe/Paris", complete_through=date(2024, 5, 1),
...     weights=({"logId": 1714540000000, "date": "2024-05-01", "time": "07:30:00",
...               "weight": 81.4, "bmi": 25.1, "source": "Aria"},),
...     heart=({"dateTime": "2024-05-01", "value": {"restingHeartRate": 61}},))
>>> [(p["header"]["schema_id"]["name"], p["header"]["acquisition_provenance"]["modality"])
...  for p in FitbitAdapter().convert(records)]
[('body-weight', 'sensed'), ('heart-rate', 'sensed')]
>>> FitbitAdapter().convert(records)[0]["body"]["effective_time_frame"]
{'date_time': '2024-05-01T07:30:00+02:00'}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.adapters.base import DataPoint, DeviceAdapter, data_point, header_id
from devices.fitbit.models import FitbitRecords
from hub.domain import Measure, Modality

#: Weight sources that are a scale's own measurement.
SCALE_SOURCES = frozenset({"Aria", "AriaAir", "Aria2"})
VENDOR = "fitbit"


def zone(name: str) -> ZoneInfo:
    """The account's time zone; UTC if Fitbit names one this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_interval(day: date, tz: ZoneInfo) -> dict[str, Any]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return {
        "time_interval": {"start_date_time": start.isoformat(), "end_date_time": end.isoformat()}
    }


@dataclass(frozen=True, slots=True)
class Daily:
    """How one kind of Fitbit daily summary becomes a data point."""

    field: str  # the value's key in the summary's ``value``
    kind: str  # part of the header id
    schema: str
    body: Callable[[float], dict[str, Any]]


SPO2 = Daily(
    "avg",
    "spo2",
    "oxygen-saturation",
    lambda v: {
        "oxygen_saturation": {"value": v, "unit": "%"},
        "system": "peripheral capillary",
        "measurement_method": "pulse oximetry",
        "descriptive_statistic": "average",
    },
)
RESTING_HEART_RATE = Daily(
    "restingHeartRate",
    "resting-heart-rate",
    "heart-rate",
    lambda v: {
        "heart_rate": {"value": v, "unit": "beats/min"},
        "temporal_relationship_to_physical_activity": "at rest",
    },
)


class FitbitAdapter(DeviceAdapter[FitbitRecords]):
    """Weight, SpO2 and resting heart rate of one Fitbit account."""

    vendor: ClassVar[str] = VENDOR
    measures: ClassVar[frozenset[Measure]] = frozenset(
        {Measure.BODY_WEIGHT, Measure.OXYGEN_SATURATION, Measure.HEART_RATE}
    )

    def serial(self, account_id: str) -> str:
        return f"fitbit-{account_id}"

    def convert(self, records: FitbitRecords) -> list[DataPoint]:
        tz = zone(records.timezone)
        points = [self._weight(records.user_id, w, tz) for w in records.weights]
        for daily, entries in ((SPO2, records.spo2), (RESTING_HEART_RATE, records.heart)):
            for entry in entries:
                point = self._daily(records, entry, tz, daily)
                if point is not None:
                    points.append(point)
        return points

    def _weight(self, user: str, entry: dict[str, Any], tz: ZoneInfo) -> DataPoint:
        day = date.fromisoformat(entry["date"])
        at = datetime.combine(day, time.fromisoformat(entry.get("time", "00:00:00")), tzinfo=tz)
        source = str(entry.get("source", ""))
        modality = Modality.SENSED if source in SCALE_SOURCES else Modality.SELF_REPORTED
        return data_point(
            header_id(VENDOR, user, "weight", str(entry["logId"])),
            "body-weight",
            "2.0",
            source=f"Fitbit {source}".rstrip(),
            modality=modality,
            created=at.isoformat(),
            body={
                "body_weight": {"value": float(entry["weight"]), "unit": "kg"},
                "effective_time_frame": {"date_time": at.isoformat()},
            },
        )

    def _daily(
        self, records: FitbitRecords, entry: dict[str, Any], tz: ZoneInfo, daily: Daily
    ) -> DataPoint | None:
        """A daily summary's point over its local day; None if the day is not over or empty."""
        day = date.fromisoformat(entry["dateTime"])
        found = (entry.get("value") or {}).get(daily.field)
        if day > records.complete_through or found is None:
            return None
        frame = _day_interval(day, tz)
        return data_point(
            header_id(VENDOR, records.user_id, daily.kind, day.isoformat()),
            daily.schema,
            "2.0",
            source="Fitbit",
            modality=Modality.SENSED,
            created=frame["time_interval"]["end_date_time"],
            body={**daily.body(float(found)), "effective_time_frame": frame},
        )
