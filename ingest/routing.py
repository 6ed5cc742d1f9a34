"""Subscriptions as data: what the ingest worker subscribes to, and where each message goes.

Each :class:`Subscription` is a topic filter, the QoS the worker asks the
broker for, and the handler that parses a message on it into the batch.
The worker subscribes to :data:`SUBSCRIPTIONS` on every connect, and
:func:`parse_batch` hands each message to the handler of the subscription
its topic matches (``paho.mqtt.client.topic_matches_sub``), with the ids the
topic carries in the filter's ``+`` places. A message on no subscription's
topic, or with an empty id, is rejected with ``topic_invalid``.

Nothing here touches the database: this is the first of a batch's three
steps (:mod:`flows.writer` holds the two others).

>>> from hub.topics import readings_topic
>>> routed = ROUTER.route(readings_topic("gw-1a2b3c4d", "SC-1"))
>>> routed.subscription.topic_filter, routed.ids
('lastmile/v1/gateways/+/devices/+/readings', ('gw-1a2b3c4d', 'SC-1'))
>>> ROUTER.route("lastmile/v1/gateways/gw-1a2b3c4d/errors") is None
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from hub.domain import ParsedPoint, Rejection, RejectionCode
from hub.topics import (
    DISPENSES_FILTER,
    META_FILTER,
    READINGS_FILTER,
    STATUS_FILTER,
    wildcards,
)
from ingest.meta import MetaMessage, parse_meta_message
from ingest.models import DeadLetter, Received
from ingest.pharmacy_mqtt import FeedMessage, parse_feed_message
from ingest.validation import Validator


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A batch after the checks that need no database: topics and payloads."""

    messages: int
    statuses: list[tuple[Received, str]]
    points: list[tuple[Received, str, str, tuple[tuple[int, ParsedPoint], ...]]]
    dead: list[DeadLetter]
    feeds: list[FeedMessage]
    #: Valid device metadata reports (the ``meta`` topic).
    metas: list[MetaMessage] = field(default_factory=list)


#: Parses one message into the batch, given the ids in its topic's ``+`` places.
Handler = Callable[[ParsedBatch, Received, tuple[str, ...], Validator], None]


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic filter the ingest worker subscribes to, and what handles it."""

    topic_filter: str
    qos: int
    handler: Handler


def _readings(batch: ParsedBatch, msg: Received, ids: tuple[str, ...], v: Validator) -> None:
    gateway_id, serial = ids
    message = v.parse(msg.payload, now=msg.received_at)
    for rejection in message.rejections:
        batch.dead.append(DeadLetter(msg, gateway_id, serial, rejection))
    if message.points:
        batch.points.append((msg, gateway_id, serial, message.points))


def _status(batch: ParsedBatch, msg: Received, ids: tuple[str, ...], v: Validator) -> None:
    batch.statuses.append((msg, ids[0]))


def _meta(batch: ParsedBatch, msg: Received, ids: tuple[str, ...], v: Validator) -> None:
    gateway_id, serial = ids
    meta = parse_meta_message(msg, gateway_id=gateway_id, device_serial=serial, validator=v)
    batch.dead.extend(meta.dead)
    batch.metas.extend(meta.valid)


def _dispenses(batch: ParsedBatch, msg: Received, ids: tuple[str, ...], v: Validator) -> None:
    feed, dead = parse_feed_message(msg, ids[0], max_bytes=v.max_bytes)
    batch.feeds.append(feed)
    batch.dead.extend(dead)


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(topic_filter=READINGS_FILTER, qos=1, handler=_readings),
    Subscription(topic_filter=STATUS_FILTER, qos=1, handler=_status),
    Subscription(topic_filter=META_FILTER, qos=1, handler=_meta),
    Subscription(topic_filter=DISPENSES_FILTER, qos=1, handler=_dispenses),
)


class Routed(NamedTuple):
    """The subscription a topic matched, and the ids in its ``+`` places."""

    subscription: Subscription
    ids: tuple[str, ...]


class Router:
    """Finds the subscription of a topic; remembers the answer for recent topics.

    A gateway publishes on the same few topics again and again, and matching
    a topic against the filters costs several microseconds, more than
    validating a small payload: the last ``remember`` topics' answers are
    kept (a dictionary look-up).
    """

    def __init__(self, subscriptions: Sequence[Subscription], *, remember: int = 65_536) -> None:
        self.subscriptions = tuple(subscriptions)
        self.route = functools.lru_cache(maxsize=remember)(self._match)

    def _match(self, topic: str) -> Routed | None:
        for subscription in self.subscriptions:
            ids = wildcards(subscription.topic_filter, topic)
            if ids is not None:
                return Routed(subscription, ids)
        return None


ROUTER = Router(SUBSCRIPTIONS)

_NOT_OURS = Rejection(RejectionCode.TOPIC_INVALID, "not a readings or dispenses topic")


def parse_batch(batch: Sequence[Received], *, validator: Validator) -> ParsedBatch:
    """Parse and validate every message of ``batch`` (no database, no side effects)."""
    parsed = ParsedBatch(len(batch), [], [], [], [])
    route = ROUTER.route
    for msg in batch:
        routed = route(msg.topic)
        if routed is None:
            parsed.dead.append(DeadLetter(msg, None, None, _NOT_OURS))
        else:
            routed.subscription.handler(parsed, msg, routed.ids, validator)
    return parsed
