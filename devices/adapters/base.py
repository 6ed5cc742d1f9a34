"""The interface every vendor adapter implements.

A vendor adapter turns a vendor's records into Open mHealth data points
(:data:`DataPoint`) for one device serial. It never stores anything itself:
the points are published, as the vendor's gateway, on the contract's readings
topic, so the ingest worker validates, deduplicates (device, measure and
effective time), scores, alerts and dead-letters them exactly like any
gateway's readings. Header ids are derived from the vendor's own record keys
(:func:`header_id`), so pulling the same record again sends the same point.

>>> point = data_point(
...     header_id("demo", "acct-1", "weight", "42"),
...     "body-weight", "2.0", source="Demo scale", modality=Modality.SENSED,
...     created="2024-05-01T07:00:00+02:00",
...     body={"body_weight": {"value": 70.5, "unit": "kg"},
...           "effective_time_frame": {"date_time": "2024-05-01T07:00:00+02:00"}})
>>> point["header"]["id"] == header_id("demo", "acct-1", "weight", "42")
True
>>> point["header"]["acquisition_provenance"]["modality"]
'sensed'
"""

from __future__ import annotations

import abc
import re
import uuid
from typing import Any, ClassVar, Generic, TypeVar

from hub.domain import Measure, Modality

#: One Open mHealth data point (``{"header": ..., "body": ...}``), as JSON.
DataPoint = dict[str, Any]

#: Records of one vendor account, whatever the vendor's shape.
Records = TypeVar("Records")

_GATEWAY_ID = re.compile(r"^gw-[a-z0-9]{8,40}$")
#: Namespace of vendor data points' header ids (uuid5).
_HEADER_NAMESPACE = uuid.UUID("6f1d7c1e-3b52-5d0e-9a43-7a1f0c2b8e55")


def vendor_gateway_id(vendor: str) -> str:
    """The id of the vendor's gateway: one per vendor per hub, the same on every start.

    >>> vendor_gateway_id("fitbit")
    'gw-vendorfitbit'
    """
    gateway_id = f"gw-vendor{vendor}"
    if not _GATEWAY_ID.fullmatch(gateway_id):
        raise ValueError(f"vendor name {vendor!r} does not make a gateway id")
    return gateway_id


def header_id(vendor: str, account: str, kind: str, key: str) -> str:
    """A header id that depends only on the vendor's record: the same record, the same id."""
    return str(uuid.uuid5(_HEADER_NAMESPACE, f"{vendor}\x1f{account}\x1f{kind}\x1f{key}"))


def data_point(
    point_id: str,
    schema: str,
    version: str,
    *,
    source: str,
    modality: Modality,
    created: str,
    body: dict[str, Any],
) -> DataPoint:
    """An Open mHealth data point with the header the hub expects of a vendor."""
    return {
        "header": {
            "id": point_id,
            "creation_date_time": created,
            "schema_id": {"namespace": "omh", "name": schema, "version": version},
            "acquisition_provenance": {"source_name": source, "modality": modality.value},
        },
        "body": body,
    }


class DeviceAdapter(abc.ABC, Generic[Records]):
    """Converts one vendor's records into Open mHealth data points.

    Subclasses set :attr:`vendor` (lower-case letters and digits: it names the
    vendor's gateway) and :attr:`measures`, and implement :meth:`serial` and
    :meth:`convert`. ``convert`` is a pure function of the records: the same
    records give the same points (header ids included), every point names a
    schema version the hub supports and says its ``modality``.
    """

    vendor: ClassVar[str]
    measures: ClassVar[frozenset[Measure]]

    @property
    def gateway_id(self) -> str:
        return vendor_gateway_id(self.vendor)

    @abc.abstractmethod
    def serial(self, account_id: str) -> str:
        """The device serial of one vendor account (a device of kind ``multi``)."""

    @abc.abstractmethod
    def convert(self, records: Records) -> list[DataPoint]:
        """The account's records as Open mHealth data points."""
