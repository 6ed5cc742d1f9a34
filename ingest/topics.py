"""The hub's MQTT topics (contract sections 1 and 2) and the subscriptions as data."""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "lastmile/v1"
READINGS_FILTER = f"{ROOT}/gateways/+/devices/+/readings"
STATUS_FILTER = f"{ROOT}/gateways/+/status"
META_FILTER = f"{ROOT}/gateways/+/devices/+/meta"
DISPENSES_FILTER = f"{ROOT}/pharmacies/+/dispenses"


@dataclass(frozen=True, slots=True)
class ReadingsTopic:
    gateway_id: str
    device_serial: str


def readings_topic(gateway_id: str, device_serial: str) -> str:
    return f"{ROOT}/gateways/{gateway_id}/devices/{device_serial}/readings"


def meta_topic(gateway_id: str, device_serial: str) -> str:
    return f"{ROOT}/gateways/{gateway_id}/devices/{device_serial}/meta"


def errors_topic(gateway_id: str) -> str:
    return f"{ROOT}/gateways/{gateway_id}/errors"


def status_topic(gateway_id: str) -> str:
    return f"{ROOT}/gateways/{gateway_id}/status"


def dispenses_topic(feed_id: str) -> str:
    return f"{ROOT}/pharmacies/{feed_id}/dispenses"


def feed_errors_topic(feed_id: str) -> str:
    return f"{ROOT}/pharmacies/{feed_id}/errors"


def parse_readings_topic(topic: str) -> ReadingsTopic | None:
    """Split a readings topic into its gateway and device; None if it is not one.

    >>> parse_readings_topic("lastmile/v1/gateways/gw-1a2b3c4d/devices/SC-1/readings")
    ReadingsTopic(gateway_id='gw-1a2b3c4d', device_serial='SC-1')
    >>> parse_readings_topic("lastmile/v1/gateways/gw-1/status") is None
    True
    """
    parts = topic.split("/")
    if (
        len(parts) != 7
        or parts[0] != "lastmile"
        or parts[1] != "v1"
        or parts[2] != "gateways"
        or parts[4] != "devices"
        or parts[6] != "readings"
        or not parts[3]
        or not parts[5]
    ):
        return None
    return ReadingsTopic(gateway_id=parts[3], device_serial=parts[5])


def parse_meta_topic(topic: str) -> ReadingsTopic | None:
    """The gateway and device of a device metadata topic; None if it is not one.

    >>> parse_meta_topic("lastmile/v1/gateways/gw-1a2b3c4d/devices/SC-1/meta")
    ReadingsTopic(gateway_id='gw-1a2b3c4d', device_serial='SC-1')
    """
    head, _, leaf = topic.rpartition("/")
    return parse_readings_topic(head + "/readings") if leaf == "meta" else None


def parse_status_topic(topic: str) -> str | None:
    """The gateway id of a status topic; None if it is not one.

    >>> parse_status_topic("lastmile/v1/gateways/gw-1a2b3c4d/status")
    'gw-1a2b3c4d'
    """
    parts = topic.split("/")
    if len(parts) == 5 and parts[:3] == ["lastmile", "v1", "gateways"] and parts[4] == "status":
        return parts[3] or None
    return None


def parse_dispenses_topic(topic: str) -> str | None:
    """The feed id of a pharmacy dispenses topic; None if it is not one.

    >>> parse_dispenses_topic("lastmile/v1/pharmacies/ph-1a2b3c4d/dispenses")
    'ph-1a2b3c4d'
    >>> parse_dispenses_topic("lastmile/v1/pharmacies/ph-1a2b3c4d/errors") is None
    True
    """
    parts = topic.split("/")
    if (
        len(parts) == 5
        and parts[:3] == ["lastmile", "v1", "pharmacies"]
        and parts[4] == "dispenses"
    ):
        return parts[3] or None
    return None


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic filter the ingest worker subscribes to, and what handles it."""

    topic_filter: str
    qos: int
    handler: str


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(topic_filter=READINGS_FILTER, qos=1, handler="readings"),
    Subscription(topic_filter=STATUS_FILTER, qos=1, handler="status"),
    Subscription(topic_filter=META_FILTER, qos=1, handler="meta"),
    Subscription(topic_filter=DISPENSES_FILTER, qos=1, handler="dispenses"),
)
