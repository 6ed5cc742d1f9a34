"""MQTT 3.1.1 packets of the raw publisher, parsed back by hand (no broker needed)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.exceptions import ProtocolError
from simulators.load import mqttcodec as codec
from simulators.load.rawmqtt import publish_preencoded


def read_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    (size,) = struct.unpack_from("!H", buf, pos)
    return buf[pos + 2 : pos + 2 + size], pos + 2 + size


def split_fixed_header(packet: bytes) -> tuple[int, bytes]:
    """(first byte, rest) of one whole packet, checking its remaining length by hand."""
    length, multiplier, pos = 0, 1, 1
    while True:
        byte = packet[pos]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        pos += 1
        if not byte & 0x80:
            break
    rest = packet[pos:]
    assert len(rest) == length
    return packet[0], rest


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (16_383, "ff7f"),
        (16_384, "808001"),
        (2_097_151, "ffff7f"),
        (2_097_152, "80808001"),
        (268_435_455, "ffffff7f"),
    ],
)
def test_remaining_length_boundaries(length: int, encoded: str) -> None:
    assert codec.encode_remaining_length(length).hex() == encoded
    assert codec.decode_remaining_length(bytes.fromhex(encoded)) == (length, len(encoded) // 2)


@pytest.mark.parametrize("length", [-1, 268_435_456])
def test_remaining_length_out_of_range(length: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        codec.encode_remaining_length(length)


@given(st.integers(min_value=0, max_value=codec.MAX_REMAINING_LENGTH))
def test_remaining_length_round_trip(length: int) -> None:
    encoded = codec.encode_remaining_length(length)
    assert codec.decode_remaining_length(b"\x30" + encoded + b"tail", 1) == (length, len(encoded))
    # Every prefix is incomplete, never misread.
    for cut in range(len(encoded)):
        assert codec.decode_remaining_length(encoded[:cut]) is None


def test_remaining_length_of_five_bytes_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        codec.decode_remaining_length(bytes.fromhex("ffffffff01"))


def test_connect_with_credentials_parses_back() -> None:
    packet = codec.encode_connect(
        client_id="gw-1a2b3c4d", username="gw-1a2b3c4d", password="s3cr3t-é", keepalive_s=45
    )
    first, rest = split_fixed_header(packet)
    assert first == 0x10
    name, pos = read_string(rest, 0)
    assert name == b"MQTT"
    level, flags = rest[pos], rest[pos + 1]
    assert level == 4
    assert flags == 0x80 | 0x40 | 0x02  # user name, password, clean session
    assert struct.unpack_from("!H", rest, pos + 2) == (45,)
    client_id, pos = read_string(rest, pos + 4)
    username, pos = read_string(rest, pos)
    password, pos = read_string(rest, pos)
    assert (client_id, username, password) == (b"gw-1a2b3c4d", b"gw-1a2b3c4d", "s3cr3t-é".encode())
    assert pos == len(rest)


def test_connect_anonymous_and_password_without_user() -> None:
    first, rest = split_fixed_header(codec.encode_connect(client_id="c", clean_session=False))
    assert first == 0x10
    assert rest[7] == 0x00
    assert rest[10:] == b"\x00\x01c"
    with pytest.raises(ValueError, match="user name"):
        codec.encode_connect(client_id="c", password="p")


@pytest.mark.parametrize("size", [0, 1, 100, 16_384, 2_097_152])
def test_publish_qos1_parses_back(size: int) -> None:
    topic = "lastmile/v1/gateways/gw-1/devices/SIM-0001-SC/readings"
    payload = bytes(i % 251 for i in range(size))
    packet = codec.encode_publish(topic, payload, packet_id=513)
    first, rest = split_fixed_header(packet)
    assert first == 0x32  # PUBLISH, QoS 1, no DUP, no RETAIN
    name, pos = read_string(rest, 0)
    assert name == topic.encode()
    assert struct.unpack_from("!H", rest, pos) == (513,)
    assert rest[pos + 2 :] == payload


def test_publish_qos0_has_no_packet_id_and_retain_sets_its_bit() -> None:
    first, rest = split_fixed_header(codec.encode_publish("a/b", b"x", qos=0, retain=True))
    assert first == 0x31
    assert rest == b"\x00\x03a/bx"


@pytest.mark.parametrize("topic", ["", "a/+/b", "a/#"])
def test_publish_refuses_invalid_topic_names(topic: str) -> None:
    with pytest.raises(ValueError, match="topic"):
        codec.encode_publish(topic, b"x")


@pytest.mark.parametrize("packet_id", [0, 65_536])
def test_publish_refuses_packet_ids_out_of_range(packet_id: int) -> None:
    with pytest.raises(ValueError, match="packet id"):
        codec.encode_publish("a", b"x", packet_id=packet_id)


@given(
    topic=st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="+#\x00"),
        min_size=1,
        max_size=300,
    ),
    payload=st.binary(max_size=3000),
    packet_id=st.integers(min_value=1, max_value=65_535),
)
def test_preencoded_publish_fills_in_its_packet_id(
    topic: str, payload: bytes, packet_id: int
) -> None:
    pre = codec.preencode_publish(topic, payload)
    packet = bytes(pre.with_packet_id(packet_id))
    assert packet == codec.encode_publish(topic, payload, packet_id=packet_id)
    _, rest = split_fixed_header(packet)
    name, pos = read_string(rest, 0)
    assert name.decode() == topic
    assert struct.unpack_from("!H", rest, pos) == (packet_id,)
    assert rest[pos + 2 :] == payload


def test_packet_ids_wrap_around_and_are_never_zero() -> None:
    assert codec.next_packet_id(0) == 1
    assert codec.next_packet_id(65_534) == 65_535
    assert codec.next_packet_id(65_535) == 1
    ids = []
    packet_id = 0
    for _ in range(3 * 65_535 + 10):
        packet_id = codec.next_packet_id(packet_id)
        ids.append(packet_id)
    assert min(ids) == 1
    assert max(ids) == 65_535
    assert ids[65_535] == 1
    assert len(set(ids[:65_535])) == 65_535


def test_connack_codes() -> None:
    assert codec.parse_connack(b"\x20\x02\x00\x00") == (False, 0)
    assert codec.parse_connack(b"\x20\x02\x01\x05") == (True, 5)
    with pytest.raises(ProtocolError):
        codec.parse_connack(b"\x40\x02\x00\x01")


def test_pubacks_free_their_ids_and_partial_packets_wait() -> None:
    inflight = {1, 2, 65_535}
    buf = bytearray(bytes.fromhex("40020002d0004002ffff4002"))
    assert codec.consume_pubacks(buf, inflight) == 2
    assert inflight == {1}
    assert buf == bytes.fromhex("4002")
    buf += b"\x00\x01"
    assert codec.consume_pubacks(buf, inflight) == 1
    assert inflight == set()
    assert buf == b""


@pytest.mark.parametrize("stream", ["40020007", "20020000", "9003000101"])
def test_unexpected_acks_and_packets_are_protocol_errors(stream: str) -> None:
    with pytest.raises(ProtocolError):
        codec.consume_pubacks(bytearray(bytes.fromhex(stream)), {1})


def test_window_must_fit_the_packet_id_space() -> None:
    for window in (0, 65_536):
        with pytest.raises(ValueError, match="window"):
            publish_preencoded(
                "127.0.0.1",
                1,
                client_id="c",
                username=None,
                password=None,
                messages=[],
                window=window,
            )
