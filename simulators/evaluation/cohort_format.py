"""The cohort file (``docs/cohort.md``): one line at a time, into typed records or a coded problem.

A cohort file is NDJSON: one JSON object per line, ``"type"`` one of
``patient``, ``reading``, ``event`` or ``meta``; blank lines are skipped.
:func:`parse_line` checks one line's fields strictly and never raises: it
returns a :class:`PatientLine`, :class:`ReadingLine`, :class:`EventLine`,
:class:`MetaLine`, or a :class:`LineProblem` with one of :class:`LineCode`.
Fields beginning ``x_`` are extensions and ignored; any other field not in
the format is ``field_unknown`` (a misspelt ``recieved_at`` must not pass
silently). The data point of a reading is not checked here: the hub's own
validator judges it (:mod:`simulators.evaluation.cohort_reader`). A :class:`ProblemLog`
counts the problems of a file by code and writes each to the rejections file.

>>> line = b'{"type": "patient", "key": "p1", "pathway": "CHF", "enrolled": "2026-01-01T00:00:00Z"}'
>>> p = parse_line(line, 1)
>>> p.key, p.pathway, p.timezone, p.enrolled.isoformat()
('p1', 'CHF', 'UTC', '2026-01-01T00:00:00+00:00')
>>> bad = parse_line(b'{"type": "event", "patient": "p1"}', 7)
>>> bad.line, bad.code.value, bad.detail
(7, 'field_missing', 'admission: required')
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Final

import orjson

from hub.exceptions import PathwayError
from hub.pathways import get_pathway
from hub.patients import check_timezone
from ingest.exceptions import PointRejectedError
from ingest.normalize import parse_timestamp

#: The pathways the format accepts (``hub/pathways.toml``).
PATHWAYS: Final = ("CHF", "COPD", "HTN", "default")
#: Event kinds, and the kind an event of a patient on a pathway has by default.
EVENT_KINDS: Final = ("decompensation", "copd_exacerbation", "hypertensive_episode")
DEFAULT_KIND: Final[Mapping[str, str]] = {
    "CHF": "decompensation",
    "COPD": "copd_exacerbation",
    "HTN": "hypertensive_episode",
}
_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
#: The namespace of the patient id made from a key that is not itself a UUID.
KEY_NAMESPACE: Final = uuid.UUID("5e1b7c1e-27a4-4c6e-9d3b-636f686f7274")


class LineCode(enum.StrEnum):
    """Why a line of the cohort file was not used."""

    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    TYPE_UNKNOWN = "type_unknown"
    FIELD_MISSING = "field_missing"
    FIELD_UNKNOWN = "field_unknown"
    FIELD_INVALID = "field_invalid"
    OVERRIDES_INVALID = "overrides_invalid"
    PATIENT_DUPLICATE = "patient_duplicate"
    PATIENT_UNKNOWN = "patient_unknown"


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    code: LineCode
    detail: str


@dataclass(frozen=True, slots=True)
class PatientLine:
    line: int
    key: str
    pathway: str
    enrolled: datetime
    timezone: str = "UTC"
    discharged: datetime | None = None
    overrides: Mapping[str, float | int | str] = field(default_factory=dict)
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReadingLine:
    """A reading line; ``payload`` is its data point (or array of them) as JSON bytes."""

    line: int
    patient: str
    received_at: datetime
    payload: bytes
    device: str | None = None


@dataclass(frozen=True, slots=True)
class EventLine:
    """An event line; ``kind`` None means the default of the patient's pathway."""

    line: int
    patient: str
    admission: datetime
    kind: str | None = None
    onset: datetime | None = None
    gain_kg: float | None = None


@dataclass(frozen=True, slots=True)
class MetaLine:
    """Free-form facts about the file (who made it, a seed); echoed, never used."""

    line: int
    fields: Mapping[str, Any]


Parsed = PatientLine | ReadingLine | EventLine | MetaLine | LineProblem


class _LineRejectedError(Exception):
    def __init__(self, code: LineCode, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


_FIELDS: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = {
    # type: (required, optional)
    "patient": (
        frozenset({"key", "pathway", "enrolled"}),
        frozenset({"timezone", "discharged", "threshold_overrides", "until"}),
    ),
    "reading": (frozenset({"patient", "received_at", "data_point"}), frozenset({"device"})),
    "event": (frozenset({"patient", "admission"}), frozenset({"kind", "onset", "gain_kg"})),
}


def parse_line(raw: bytes, line: int) -> Parsed | None:
    """One line of a cohort file (``line`` counts from 1); None for a blank line."""
    if not raw.strip():
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return LineProblem(line, LineCode.NOT_JSON, "not a UTF-8 JSON value")
    if type(doc) is not dict:
        return LineProblem(line, LineCode.NOT_AN_OBJECT, "a line must be a JSON object")
    try:
        return _parse(doc, line)
    except _LineRejectedError as bad:
        return LineProblem(line, bad.code, bad.detail)


def _parse(doc: dict[str, Any], line: int) -> Parsed:
    kind = doc.get("type")
    if kind == "meta":
        return MetaLine(line, {k: v for k, v in doc.items() if k != "type"})
    if type(kind) is not str or kind not in _FIELDS:
        raise _LineRejectedError(
            LineCode.TYPE_UNKNOWN, "type: one of patient, reading, event, meta"
        )
    required, optional = _FIELDS[kind]
    for name in sorted(required):
        if doc.get(name) is None:
            raise _LineRejectedError(LineCode.FIELD_MISSING, f"{name}: required")
    unknown = sorted(k for k in doc if k != "type" and k not in required | optional)
    unknown = [k for k in unknown if not k.startswith("x_")]
    if unknown:
        raise _LineRejectedError(
            LineCode.FIELD_UNKNOWN, f"not a field of a {kind} line: {', '.join(unknown)}"
        )
    if kind == "patient":
        return _patient(doc, line)
    if kind == "reading":
        return ReadingLine(
            line,
            _key(doc, "patient"),
            _time(doc, "received_at"),
            orjson.dumps(doc["data_point"]),
            _optional_key(doc, "device"),
        )
    return _event(doc, line)


def _patient(doc: dict[str, Any], line: int) -> PatientLine:
    pathway = doc["pathway"]
    if pathway not in PATHWAYS:
        raise _LineRejectedError(LineCode.FIELD_INVALID, f"pathway: one of {', '.join(PATHWAYS)}")
    zone = doc.get("timezone", "UTC")
    try:
        zone = check_timezone(zone) if type(zone) is str else None
    except ValueError:
        zone = None
    if zone is None:
        raise _LineRejectedError(LineCode.FIELD_INVALID, "timezone: an IANA time zone name")
    enrolled = _time(doc, "enrolled")
    discharged = _optional_time(doc, "discharged")
    until = _optional_time(doc, "until")
    if until is not None and until < enrolled:
        raise _LineRejectedError(LineCode.FIELD_INVALID, "until: before enrolled")
    overrides = doc.get("threshold_overrides", {})
    if type(overrides) is not dict or not all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in overrides.values()
    ):
        raise _LineRejectedError(
            LineCode.FIELD_INVALID, "threshold_overrides: an object of numbers or names"
        )
    try:
        get_pathway(pathway).with_overrides(overrides)
    except PathwayError as exc:
        raise _LineRejectedError(
            LineCode.OVERRIDES_INVALID, f"threshold_overrides: {exc}"
        ) from None
    return PatientLine(
        line, _key(doc, "key"), pathway, enrolled, zone, discharged, overrides, until
    )


def _event(doc: dict[str, Any], line: int) -> EventLine:
    kind = doc.get("kind")
    if kind is not None and kind not in EVENT_KINDS:
        raise _LineRejectedError(LineCode.FIELD_INVALID, f"kind: one of {', '.join(EVENT_KINDS)}")
    admission = _time(doc, "admission")
    onset = _optional_time(doc, "onset")
    if onset is not None and onset > admission:
        raise _LineRejectedError(LineCode.FIELD_INVALID, "onset: after admission")
    gain = doc.get("gain_kg")
    if gain is not None and (
        isinstance(gain, bool)
        or not isinstance(gain, int | float)
        or not math.isfinite(gain)
        or gain < 0
    ):
        raise _LineRejectedError(
            LineCode.FIELD_INVALID, "gain_kg: a number of kilograms, 0 or more"
        )
    return EventLine(
        line,
        _key(doc, "patient"),
        admission,
        kind,
        onset,
        None if gain is None else float(gain),
    )


def _key(doc: dict[str, Any], name: str) -> str:
    value = doc[name]
    if type(value) is not str or not value:
        raise _LineRejectedError(LineCode.FIELD_INVALID, f"{name}: a non-empty string")
    return value


def _optional_key(doc: dict[str, Any], name: str) -> str | None:
    return None if doc.get(name) is None else _key(doc, name)


def _time(doc: dict[str, Any], name: str) -> datetime:
    value = doc[name]
    if type(value) is not str or not _RFC3339.fullmatch(value):
        raise _LineRejectedError(
            LineCode.FIELD_INVALID, f"{name}: an RFC 3339 date-time with an offset"
        )
    try:
        return parse_timestamp(value, name)
    except PointRejectedError as exc:
        raise _LineRejectedError(LineCode.FIELD_INVALID, exc.detail) from None


def _optional_time(doc: dict[str, Any], name: str) -> datetime | None:
    return None if doc.get(name) is None else _time(doc, name)


class ProblemLog:
    """Problems by category (``line``: the file's format; ``reading``: the hub's codes).

    Each is written to ``sink`` (NDJSON) if given; the first ``keep`` line
    numbers of each code are kept for the summary.
    """

    def __init__(self, sink: IO[bytes] | None = None, *, keep: int = 5) -> None:
        self._sink = sink
        self._keep = keep
        self.counts: Counter[tuple[str, str]] = Counter()
        self.examples: dict[tuple[str, str], list[int]] = {}

    def add(self, category: str, line: int, code: str, detail: str, **extra: Any) -> None:
        key = (category, code)
        self.counts[key] += 1
        seen = self.examples.setdefault(key, [])
        if len(seen) < self._keep:
            seen.append(line)
        if self._sink is not None:
            row = {"line": line, "category": category, "code": code, "detail": detail}
            row.update({k: v for k, v in extra.items() if v is not None})
            self._sink.write(orjson.dumps(row) + b"\n")

    def total(self, category: str) -> int:
        return sum(n for (c, _), n in self.counts.items() if c == category)

    def by_code(self, category: str) -> dict[str, int]:
        return dict(sorted((code, n) for (c, code), n in self.counts.items() if c == category))


def patient_uuid(key: str) -> uuid.UUID:
    """The patient id the run gives ``key``: the key itself if it is a UUID in canonical form.

    >>> patient_uuid("6f1c1a52-3c0e-4d59-9a51-6c6173746d31")
    UUID('6f1c1a52-3c0e-4d59-9a51-6c6173746d31')
    >>> patient_uuid("p-001") == patient_uuid("p-001") != patient_uuid("p-002")
    True
    """
    try:
        parsed = uuid.UUID(key)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == key:
        return parsed
    return uuid.uuid5(KEY_NAMESPACE, key)
