"""The few MQTT 3.1.1 packets a bare QoS 1 publisher needs, encoded by hand.

Only what :mod:`simulators.load.rawmqtt` sends and reads (OASIS MQTT 3.1.1, section
2 and 3): CONNECT, CONNACK, PUBLISH (QoS 1), PUBACK, PINGREQ/PINGRESP,
DISCONNECT. The remaining length is the spec's base-128 varint::

    >>> encode_remaining_length(127).hex(), encode_remaining_length(128).hex()
    ('7f', '8001')
    >>> decode_remaining_length(bytes.fromhex("ffff7f"))
    (2097151, 3)

Packet ids run 1..65535 and wrap around, never 0::

    >>> next_packet_id(1), next_packet_id(65535)
    (2, 1)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from simulators.exceptions import ProtocolError

MAX_REMAINING_LENGTH: Final = 268_435_455
MAX_PACKET_ID: Final = 65_535

CONNECT: Final = 0x10
CONNACK: Final = 0x20
PUBLISH: Final = 0x30
PUBACK: Final = 0x40
SUBSCRIBE: Final = 0x80
PINGREQ: Final = 0xC0
PINGRESP: Final = 0xD0
DISCONNECT: Final = 0xE0

PINGREQ_PACKET: Final = bytes((PINGREQ, 0))
DISCONNECT_PACKET: Final = bytes((DISCONNECT, 0))

#: CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3).
CONNACK_CODES: Final = {
    0: "accepted",
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


def encode_remaining_length(length: int) -> bytes:
    """The varint of a packet's remaining length (1 to 4 bytes)."""
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        msg = f"remaining length out of range: {length}"
        raise ValueError(msg)
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        if length:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_remaining_length(buf: bytes | bytearray, offset: int = 0) -> tuple[int, int] | None:
    """``(length, bytes used)`` of the varint at ``offset``; ``None`` if it is incomplete."""
    value = 0
    for i in range(4):
        if offset + i >= len(buf):
            return None
        byte = buf[offset + i]
        value += (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    msg = "remaining length longer than 4 bytes"
    raise ProtocolError(msg)


def encode_string(text: str) -> bytes:
    """An MQTT UTF-8 string: 2-byte big-endian length, then the bytes."""
    raw = text.encode()
    return encode_binary(raw)


def encode_binary(raw: bytes) -> bytes:
    if len(raw) > 0xFFFF:
        msg = f"string of {len(raw)} bytes is longer than 65535"
        raise ValueError(msg)
    return struct.pack("!H", len(raw)) + raw


def encode_connect(
    *,
    client_id: str,
    username: str | None = None,
    password: str | None = None,
    keepalive_s: int = 60,
    clean_session: bool = True,
) -> bytes:
    """CONNECT for protocol level 4 (3.1.1), without a will."""
    if password is not None and username is None:
        msg = "MQTT 3.1.1 allows a password only with a user name"
        raise ValueError(msg)
    flags = (0x02 if clean_session else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None else 0
    variable = encode_string("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive_s)
    payload = encode_string(client_id)
    if username is not None:
        payload += encode_string(username)
    if password is not None:
        payload += encode_binary(password.encode())
    body = variable + payload
    return bytes((CONNECT,)) + encode_remaining_length(len(body)) + body


def parse_connack(packet: bytes) -> tuple[bool, int]:
    """``(session present, return code)`` of a whole 4-byte CONNACK."""
    if len(packet) != 4 or packet[0] != CONNACK or packet[1] != 2:
        msg = f"expected CONNACK, got {packet[:8].hex()}"
        raise ProtocolError(msg)
    return bool(packet[2] & 0x01), packet[3]


def encode_publish(
    topic: str, payload: bytes, *, qos: int = 1, packet_id: int = 1, retain: bool = False
) -> bytes:
    """A PUBLISH packet; ``packet_id`` is written for QoS 1 and 2 only."""
    return bytes(_publish(topic, payload, qos=qos, packet_id=packet_id, retain=retain)[0])


def _publish(
    topic: str, payload: bytes, *, qos: int, packet_id: int, retain: bool
) -> tuple[bytearray, int]:
    if qos not in (0, 1, 2):
        msg = f"invalid QoS {qos}"
        raise ValueError(msg)
    if not topic or "+" in topic or "#" in topic:
        msg = f"invalid topic name for PUBLISH: {topic!r}"
        raise ValueError(msg)
    if qos and not 1 <= packet_id <= MAX_PACKET_ID:
        msg = f"packet id out of range: {packet_id}"
        raise ValueError(msg)
    name = encode_string(topic)
    pid = struct.pack("!H", packet_id) if qos else b""
    remaining = len(name) + len(pid) + len(payload)
    header = bytes((PUBLISH | (qos << 1) | int(retain),)) + encode_remaining_length(remaining)
    packet = bytearray(header)
    packet += name
    offset = len(packet)
    packet += pid
    packet += payload
    return packet, offset


@dataclass(frozen=True, slots=True)
class PreencodedPublish:
    """A QoS 1 PUBLISH whose packet id (2 bytes at ``id_offset``) is filled in per send."""

    packet: bytearray
    id_offset: int

    def with_packet_id(self, packet_id: int) -> bytearray:
        """Write ``packet_id`` in place and return the packet (no copy)."""
        self.packet[self.id_offset] = packet_id >> 8
        self.packet[self.id_offset + 1] = packet_id & 0xFF
        return self.packet


def preencode_publish(topic: str, payload: bytes) -> PreencodedPublish:
    packet, offset = _publish(topic, payload, qos=1, packet_id=MAX_PACKET_ID, retain=False)
    return PreencodedPublish(packet=packet, id_offset=offset)


def next_packet_id(packet_id: int) -> int:
    """The id after ``packet_id``: 1..65535, wrapping to 1, never 0."""
    return packet_id % MAX_PACKET_ID + 1


def consume_pubacks(inbuf: bytearray, inflight: set[int]) -> int:
    """Take the whole packets off the front of ``inbuf``; return how many were PUBACKs.

    Each PUBACK's id leaves ``inflight``; a PINGRESP is skipped; a partial
    packet stays in ``inbuf``. A PUBACK for an id not in flight, or any other
    packet, is a :class:`~simulators.exceptions.ProtocolError`.

    >>> buf, inflight = bytearray(bytes.fromhex("40020001d000400200")), {1, 2}
    >>> consume_pubacks(buf, inflight), inflight, buf.hex()
    (1, {2}, '400200')
    """
    acked = pos = 0
    size = len(inbuf)
    while pos + 2 <= size:
        kind = inbuf[pos]
        if kind == PUBACK and inbuf[pos + 1] == 2:
            if pos + 4 > size:
                break
            packet_id = (inbuf[pos + 2] << 8) | inbuf[pos + 3]
            if packet_id not in inflight:
                msg = f"PUBACK for packet id {packet_id}, which is not in flight"
                raise ProtocolError(msg)
            inflight.discard(packet_id)
            acked += 1
            pos += 4
            continue
        decoded = decode_remaining_length(inbuf, pos + 1)
        if decoded is None or pos + 1 + decoded[1] + decoded[0] > size:
            break
        if kind != PINGRESP:
            msg = f"unexpected packet type 0x{kind:02x} from the broker"
            raise ProtocolError(msg)
        pos += 1 + decoded[1] + decoded[0]
    del inbuf[:pos]
    return acked
