"""Types of the conformance kit: samples, what was expected, what happened.

Everything here is frozen: a sample is read once, an outcome is decided once.

>>> Expectation().expected_for("h1"), Expectation(default="unit_unsupported").expected_for("h1")
('stored', 'unit_unsupported')
>>> Expectation(points=(("h2", "implausible_value"),)).expected_for("h2")
'implausible_value'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hub.domain import RejectionCode

#: What a data point that must be stored expects.
STORED: Final = "stored"

#: Codes only the hub's device registry can give; offline they cannot be checked.
REGISTRY_CODES: Final = frozenset(
    {
        RejectionCode.UNKNOWN_DEVICE.value,
        RejectionCode.DEVICE_NOT_ON_GATEWAY.value,
        RejectionCode.MEASURE_NOT_FOR_DEVICE.value,
        RejectionCode.DEVICE_DISABLED.value,
        RejectionCode.DEVICE_RETIRED.value,
    }
)


class Result(enum.StrEnum):
    """What became of one data point (or of a whole message)."""

    STORED = "stored"
    REJECTED = "rejected"
    #: Offline: the Validator accepts it; whether the hub stores it depends on
    #: its device registry.
    VALID = "valid"
    #: Online: the broker refused the publish, or the hub's answer never came.
    NO_ANSWER = "no answer"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a sample file must come to.

    ``default`` applies to every data point and to a rejection of the whole
    message: ``"stored"`` or a rejection code. ``points`` overrides it per
    ``header.id``.
    """

    default: str = STORED
    points: tuple[tuple[str, str], ...] = ()

    def expected_for(self, header_id: str | None) -> str:
        for known, expected in self.points:
            if known == header_id:
                return expected
        return self.default


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample file: one MQTT message to one device's readings topic."""

    #: Shown in the report: ``<device folder>/<file name>``.
    name: str
    path: Path
    #: The device serial the message is published for (after ``--device`` mapping).
    serial: str
    payload: bytes
    #: ``header.id`` of each data point, None where there is no usable one;
    #: empty when the payload is not a data point or a non-empty array of them.
    header_ids: tuple[str | None, ...]
    expectation: Expectation = field(default_factory=Expectation)


@dataclass(frozen=True, slots=True)
class Answer:
    """A rejection as the hub gives it (or the Validator, offline)."""

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class PointOutcome:
    """One row of the report: a data point, or a whole message (``index`` None)."""

    index: int | None
    header_id: str | None
    result: Result
    code: str | None
    detail: str | None
    expected: str
    passed: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What became of one sample file."""

    sample: str
    serial: str
    rows: tuple[PointOutcome, ...]
    #: Rejections received for this message that match none of its points.
    unattributed: tuple[Answer, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.unattributed and all(row.passed for row in self.rows)


@dataclass(frozen=True, slots=True)
class Check:
    """One topic, ACL or session check against the broker."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    """The whole run; exit code 0 only when :attr:`passed`."""

    mode: str
    messages: tuple[MessageOutcome, ...]
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.messages) and all(c.passed for c in self.checks)
