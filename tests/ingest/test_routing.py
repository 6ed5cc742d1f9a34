"""Routing by the subscription table: a topic the hub reads reaches its parser, others not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain import RejectionCode
from hub.topics import (
    DISPENSES_FILTER,
    META_FILTER,
    READINGS_FILTER,
    ROOT,
    STATUS_FILTER,
    dispenses_topic,
    errors_topic,
    feed_errors_topic,
    meta_topic,
    parse_dispenses_topic,
    parse_readings_topic,
    readings_topic,
    status_topic,
)
from ingest.models import Received
from ingest.routing import ROUTER, SUBSCRIPTIONS, parse_batch
from ingest.validation import Validator
from tests.support import weight_point

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5))

#: An id as a topic level may carry it: not empty, no level separator or wildcard.
IDS = st.text(st.characters(exclude_characters="/+#\x00", exclude_categories=["Cs"]), min_size=1)


def _received(topic: str, payload: bytes = b"{}") -> Received:
    return Received(topic, payload, mid=1, dup=False, received_at=NOW, generation=1)


def test_the_worker_subscribes_to_the_four_topics_it_reads_at_qos_1() -> None:
    assert [(s.topic_filter, s.qos) for s in SUBSCRIPTIONS] == [
        (READINGS_FILTER, 1),
        (STATUS_FILTER, 1),
        (META_FILTER, 1),
        (DISPENSES_FILTER, 1),
    ]
    assert all(s.topic_filter.startswith(f"{ROOT}/") for s in SUBSCRIPTIONS)


@given(gateway_id=IDS, serial=IDS, feed_id=IDS)
def test_every_topic_the_hub_reads_routes_to_its_subscription_with_its_ids(
    gateway_id: str, serial: str, feed_id: str
) -> None:
    cases = [
        (readings_topic(gateway_id, serial), READINGS_FILTER, (gateway_id, serial)),
        (status_topic(gateway_id), STATUS_FILTER, (gateway_id,)),
        (meta_topic(gateway_id, serial), META_FILTER, (gateway_id, serial)),
        (dispenses_topic(feed_id), DISPENSES_FILTER, (feed_id,)),
    ]
    for topic, topic_filter, ids in cases:
        routed = ROUTER.route(topic)
        assert routed is not None, topic
        assert (routed.subscription.topic_filter, routed.ids) == (topic_filter, ids)
    parsed = parse_readings_topic(readings_topic(gateway_id, serial))
    assert parsed is not None
    assert (parsed.gateway_id, parsed.device_serial) == (gateway_id, serial)
    assert parse_dispenses_topic(dispenses_topic(feed_id)) == feed_id


@pytest.mark.parametrize(
    "topic",
    [
        errors_topic("gw-1"),  # the hub's own answers
        feed_errors_topic("ph-1"),
        readings_topic("", "SC-1"),  # '+' matches an empty level; no id is empty
        readings_topic("gw-1", ""),
        status_topic(""),
        dispenses_topic(""),
        readings_topic("gw-1", "SC-1") + "/extra",
        "extra/" + status_topic("gw-1"),
        status_topic("gw-1").replace(ROOT, "lastmile/v2"),
        f"{ROOT}/gateways/gw-1/devices/SC-1",
        f"{ROOT}/gateways/gw-1/devices/SC-1/status",
        f"{ROOT}/pharmacies/ph-1/readings",
        "",
    ],
)
def test_a_topic_no_subscription_reads_is_rejected_as_topic_invalid(topic: str) -> None:
    assert ROUTER.route(topic) is None
    parsed = parse_batch([_received(topic)], validator=VALIDATOR)
    assert [(d.rejection.code, d.gateway_id, d.device_serial) for d in parsed.dead] == [
        (RejectionCode.TOPIC_INVALID, None, None)
    ]
    assert (parsed.points, parsed.statuses, parsed.feeds, parsed.metas) == ([], [], [], [])


def test_each_message_of_a_batch_reaches_its_handler() -> None:
    reading = orjson.dumps(weight_point(80.0, NOW - timedelta(hours=1)))
    batch = [
        _received(readings_topic("gw-1", "SC-1"), reading),
        _received(readings_topic("gw-1", "SC-2"), b"{not json"),
        _received(status_topic("gw-1"), b"online"),
        _received(meta_topic("gw-1", "SC-1"), b'{"battery_percent": 64}'),
        _received(meta_topic("gw-1", "SC-2"), b'{"battery": 64}'),
        _received(dispenses_topic("ph-1"), b"[]"),
        _received(errors_topic("gw-1")),
    ]
    parsed = parse_batch(batch, validator=VALIDATOR)
    assert parsed.messages == len(batch)
    assert [(gw, serial, len(points)) for _, gw, serial, points in parsed.points] == [
        ("gw-1", "SC-1", 1)
    ]
    assert [(msg.payload, gw) for msg, gw in parsed.statuses] == [(b"online", "gw-1")]
    assert [(m.gateway_id, m.device_serial, m.meta.battery_percent) for m in parsed.metas] == [
        ("gw-1", "SC-1", 64)
    ]
    assert [(f.feed_id, f.dispenses) for f in parsed.feeds] == [("ph-1", ())]
    assert [(d.gateway_id, d.device_serial, d.rejection.code) for d in parsed.dead] == [
        ("gw-1", "SC-2", RejectionCode.MALFORMED_JSON),
        ("gw-1", "SC-2", RejectionCode.SCHEMA_INVALID),
        (None, None, RejectionCode.TOPIC_INVALID),
    ]
