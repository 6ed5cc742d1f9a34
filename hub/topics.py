"""The hub's MQTT topics (contract sections 1 and 2), all under one root.

Each topic's shape is written once, in the function that builds it; the
filters the ingest worker subscribes to are those functions with ``+`` for
every id, the parsers read a topic through its filter (:func:`wildcards`),
and :mod:`ingest.routing` routes every message by the filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from paho.mqtt.client import topic_matches_sub

ROOT = "lastmile/v1"


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


#: What the ingest worker subscribes to: the topics it reads, any id in each ``+``.
READINGS_FILTER = readings_topic("+", "+")
STATUS_FILTER = status_topic("+")
META_FILTER = meta_topic("+", "+")
DISPENSES_FILTER = dispenses_topic("+")


def wildcards(topic_filter: str, topic: str) -> tuple[str, ...] | None:
    """The levels of ``topic`` in the ``+`` places of ``topic_filter``, in order.

    None if the topic does not match the filter, or matches it with an empty
    level there (MQTT lets ``+`` match an empty level; no id of ours is empty).
    The levels a trailing ``#`` matches are not among them.

    >>> wildcards(STATUS_FILTER, status_topic("gw-1a2b3c4d"))
    ('gw-1a2b3c4d',)
    >>> wildcards(META_FILTER, meta_topic("gw-1a2b3c4d", "SC-1"))
    ('gw-1a2b3c4d', 'SC-1')
    >>> wildcards(STATUS_FILTER, status_topic("")) is None
    True
    >>> wildcards(STATUS_FILTER, errors_topic("gw-1a2b3c4d")) is None
    True
    """
    if not topic_matches_sub(topic_filter, topic):
        return None
    levels = tuple(
        level
        for level, pattern in zip(topic.split("/"), topic_filter.split("/"), strict=False)
        if pattern == "+"
    )
    return levels if all(levels) else None


def parse_readings_topic(topic: str) -> ReadingsTopic | None:
    """Split a readings topic into its gateway and device; None if it is not one.

    >>> parse_readings_topic("lastmile/v1/gateways/gw-1a2b3c4d/devices/SC-1/readings")
    ReadingsTopic(gateway_id='gw-1a2b3c4d', device_serial='SC-1')
    >>> parse_readings_topic("lastmile/v1/gateways/gw-1/status") is None
    True
    >>> parse_readings_topic("lastmile/v1/gateways/gw-1/devices//readings") is None
    True
    """
    levels = wildcards(READINGS_FILTER, topic)
    return None if levels is None else ReadingsTopic(*levels)


def parse_dispenses_topic(topic: str) -> str | None:
    """The feed id of a pharmacy dispenses topic; None if it is not one.

    >>> parse_dispenses_topic("lastmile/v1/pharmacies/ph-1a2b3c4d/dispenses")
    'ph-1a2b3c4d'
    >>> parse_dispenses_topic("lastmile/v1/pharmacies/ph-1a2b3c4d/errors") is None
    True
    """
    levels = wildcards(DISPENSES_FILTER, topic)
    return None if levels is None else levels[0]
