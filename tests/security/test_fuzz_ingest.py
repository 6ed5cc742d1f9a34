"""Fuzzing the MQTT payload decoders (issue #7, item 7): readings, device meta, dispenses.

Property of every target: it never raises, and each input is either
accepted or rejected with a code of :class:`hub.domain.RejectionCode` that
the target documents, accounted for point by point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import strategies as st

from hub.domain import DeviceMeta, Dispense, ParsedMessage, Rejection, RejectionCode
from hub.topics import dispenses_topic
from ingest.meta import parse_meta_payload
from ingest.models import Received
from ingest.pharmacy_mqtt import MAX_DISPENSES, parse_feed_message
from ingest.validation import Validator
from tests.proof import Profile, ProofRow
from tests.security.fuzzing import (
    DISPENSE_CODES,
    FEED_SEEDS,
    READINGS,
    fuzz,
    mutated,
    payloads,
    sample_payloads,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
Code = RejectionCode
VALIDATOR = Validator(future_tolerance=timedelta(minutes=5), max_bytes=64_000, max_points=20)
#: The codes :meth:`Validator.parse` documents.
READING_CODES = {
    Code.PAYLOAD_TOO_LARGE, Code.MALFORMED_JSON, Code.SCHEMA_INVALID, Code.SCHEMA_UNSUPPORTED,
    Code.UNIT_UNSUPPORTED, Code.IMPLAUSIBLE_VALUE, Code.TIME_IN_FUTURE,
    Code.STATISTIC_UNSUPPORTED,
}  # fmt: skip
WHOLE_CODES = {Code.PAYLOAD_TOO_LARGE, Code.MALFORMED_JSON, Code.SCHEMA_INVALID}
META_CODES = {Code.PAYLOAD_TOO_LARGE, Code.MALFORMED_JSON, Code.SCHEMA_INVALID, Code.TIME_IN_FUTURE}


def _check_reading(payload: bytes) -> bool:
    message = VALIDATOR.parse(payload, now=NOW)
    assert isinstance(message, ParsedMessage)
    for rejection in message.rejections:
        assert rejection.code in READING_CODES, rejection
        assert rejection.detail
        assert len(rejection.detail) <= 200
    whole = [r for r in message.rejections if r.index is None]
    if whole:
        assert len(message.rejections) == 1
        assert not message.points
        assert whole[0].code in WHOLE_CODES
        return False
    document = orjson.loads(payload)
    size = len(document) if isinstance(document, list) else 1
    indexes = sorted([i for i, _ in message.points] + [r.index or 0 for r in message.rejections])
    assert indexes == list(range(size)), "every point stored or rejected, once"
    for _, point in message.points:
        assert "\x00" not in point.header_id, "PostgreSQL text cannot hold it"
        assert point.measured_at.utcoffset() == timedelta(0)
        assert point.measured_at <= NOW + VALIDATOR.future_tolerance
    return not message.rejections


#: Found by the HTTP fuzzer's cousin: a NUL in header.id passed validation, then failed the
#: whole batch in the database (re-stored message by message, quarantined as internal_error).
NUL_HEADER_ID = orjson.dumps(READINGS[0]).replace(b'"id":"', b'"id":"\\u0000', 1)


def test_fuzz_reading_decoder_bytes(proof: ProofRow, proof_profile: Profile) -> None:
    strategy = payloads(READINGS) | st.sampled_from(sample_payloads())
    fuzz(
        proof,
        proof_profile,
        strategy,
        _check_reading,
        target="Validator.parse (bytes)",
        examples=[NUL_HEADER_ID],
    )


def test_fuzz_reading_decoder_documents(proof: ProofRow, proof_profile: Profile) -> None:
    keys = ["header", "body", "schema_id", "value", "unit", "effective_time_frame", "date_time",
            "time_interval", "duration", "descriptive_statistic", "modality", "id"]  # fmt: skip
    strategy = mutated(READINGS, keys=keys).map(orjson.dumps)
    fuzz(proof, proof_profile, strategy, _check_reading, target="Validator.parse (documents)")


META_SEEDS = [
    {"battery_percent": 64, "firmware": "2.4.1", "signal_dbm": -71,
     "reported_at": "2026-03-01T11:58:00+01:00"},
    {"firmware": "1.0"},
]  # fmt: skip


def _check_meta(payload: bytes) -> bool:
    parsed = parse_meta_payload(payload, received_at=NOW, future_tolerance=timedelta(minutes=5))
    if isinstance(parsed, Rejection):
        assert parsed.code in META_CODES, parsed
        return False
    assert isinstance(parsed, DeviceMeta)
    assert parsed.battery_percent is None or 0 <= parsed.battery_percent <= 100
    assert parsed.signal_dbm is None or -150 <= parsed.signal_dbm <= 0
    assert parsed.reported_at <= NOW + timedelta(minutes=5)
    return True


def test_fuzz_meta_decoder(proof: ProofRow, proof_profile: Profile) -> None:
    fuzz(proof, proof_profile, payloads(META_SEEDS), _check_meta, target="parse_meta_payload")


def _check_feed(payload: bytes) -> bool:
    msg = Received(
        dispenses_topic("ph-1"), payload, mid=1, dup=False, received_at=NOW, generation=1
    )
    feed, dead = parse_feed_message(msg, "ph-1", max_bytes=64_000)
    for letter in dead:
        assert letter.rejection.code in DISPENSE_CODES, letter.rejection
        assert letter.feed_id == "ph-1"
    for _, _, found in feed.dispenses:
        assert isinstance(found, Dispense)
        assert 1 <= found.days_supply <= 366
    whole = [d for d in dead if d.rejection.index is None and not _single(payload)]
    if _single(payload):
        assert len(dead) + len(feed.dispenses) == 1
    elif whole:
        assert len(dead) == 1
        assert not feed.dispenses
    elif feed.dispenses or dead:
        assert len(feed.dispenses) + len(dead) <= MAX_DISPENSES
    return not dead


def _single(payload: bytes) -> bool:
    """Whether the payload is one resource (its rejection has no index either)."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("resourceType") != "Bundle"


def test_fuzz_dispense_feed_decoder(proof: ProofRow, proof_profile: Profile) -> None:
    fuzz(proof, proof_profile, payloads(FEED_SEEDS), _check_feed, target="parse_feed_message")
