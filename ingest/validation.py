"""Validate and normalize Open mHealth payloads from gateways.

A payload is one Open mHealth data point (``{"header": ..., "body": ...}``) or
a JSON array of them. :meth:`Validator.parse` never raises for any payload: it
returns a :class:`~hub.domain.ParsedMessage` with the points to store (each
with its index in the array, 0 for a single object) and one coded
:class:`~hub.domain.Rejection` per point not stored (``index`` set) or per
payload refused as a whole (``index`` None).

Rejection codes emitted here:

``payload_too_large`` (whole)
    more than ``max_bytes`` bytes, or an array of more than ``max_points``.
``malformed_json`` (whole)
    not UTF-8 JSON.
``schema_invalid`` (whole)
    top level neither an object nor an array, or an empty array.
``schema_invalid`` (point)
    fails the data-point/header schema or the body schema named by
    ``header.schema_id``; or a date-time that matches the format but does not
    exist or is out of range.
``schema_unsupported`` (point)
    ``header.schema_id`` is well formed but not ``omh`` with a name and
    version of :data:`hub.domain.SUPPORTED_VERSIONS`.
``unit_unsupported`` (point)
    a unit the schema allows but the hub cannot convert (a ``Mo``/``yr``
    duration needed to place the point in time).
``implausible_value`` (point)
    outside :mod:`ingest.limits`, systolic not above diastolic, or a time
    interval that ends before it starts or has a negative duration.
``time_in_future`` (point)
    measured later than ``now + future_tolerance``.
``time_too_old`` (point)
    measured earlier than ``now - max_age`` (when a ``max_age`` is given).

Each supported ``(name, version)`` has two compiled forms of the same inlined
schema (:mod:`ingest.schemas`): a fast yes/no predicate
(:mod:`ingest.fastcheck`) decides for valid points, and fastjsonschema, the
reference, decides and explains whenever the predicate says no.

>>> from datetime import UTC, datetime, timedelta
>>> validator = Validator(future_tolerance=timedelta(minutes=5))
>>> payload = b'''{"header": {"id": "h1", "creation_date_time": "2024-05-01T08:00:00Z",
...   "schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"}},
...  "body": {"heart_rate": {"value": 64, "unit": "beats/min"},
...           "effective_time_frame": {"date_time": "2024-05-01T07:59:00Z"}}}'''
>>> message = validator.parse(payload, now=datetime(2024, 5, 1, 8, 0, tzinfo=UTC))
>>> [(index, point.value, point.header_id) for index, point in message.points]
[(0, 64.0, 'h1')]
>>> validator.parse(b"[]", now=datetime(2024, 5, 1, tzinfo=UTC)).rejections[0].code
<RejectionCode.SCHEMA_INVALID: 'schema_invalid'>
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

import orjson
from fastjsonschema import JsonSchemaValueException

from hub.domain import (
    SUPPORTED_VERSIONS,
    Measure,
    ParsedMessage,
    ParsedPoint,
    Rejection,
    RejectionCode,
)
from hub.settings import Settings
from ingest.exceptions import PointRejectedError, ValidatorUsageError
from ingest.fastcheck import Predicate
from ingest.normalize import normalize
from ingest.schemas import (
    CompiledValidator,
    compile_schema,
    fast_predicate,
    reference_validator,
)

_NAMESPACE: Final = "omh"
_DETAIL_SIZE: Final = 200
_LATEST: Final = datetime.max.replace(tzinfo=UTC)


class _Schema(NamedTuple):
    measure: Measure
    version: str
    fast: Predicate
    reference: CompiledValidator


class Validator:
    """Parses gateway payloads into points and rejections; reusable, thread-safe.

    Compiling the schemas takes a few hundred milliseconds, once per process.
    """

    __slots__ = ("_generic", "_max_age", "_max_bytes", "_max_points", "_schemas", "_tolerance")

    def __init__(
        self,
        *,
        future_tolerance: timedelta,
        max_points: int = 500,
        max_bytes: int = 1_048_576,
        max_age: timedelta | None = None,
    ) -> None:
        if future_tolerance < timedelta(0):
            raise ValidatorUsageError("future_tolerance must not be negative")
        if max_age is not None and max_age <= timedelta(0):
            raise ValidatorUsageError("max_age must be positive")
        self._max_age = max_age
        if max_points < 1 or max_bytes < 1:
            raise ValidatorUsageError("max_points and max_bytes must be positive")
        self._tolerance = future_tolerance
        self._max_points = max_points
        self._max_bytes = max_bytes
        self._schemas: dict[tuple[str, str, str], _Schema] = {
            (_NAMESPACE, measure.value, version): _Schema(
                measure,
                version,
                fast_predicate(measure, version),
                reference_validator(measure, version),
            )
            for measure, versions in SUPPORTED_VERSIONS.items()
            for version in versions
        }
        self._generic = reference_validator(None, None)

    @classmethod
    def from_settings(cls, settings: Settings) -> Validator:
        """The hub's own rules: tolerance, sizes and maximum age from its settings."""
        return cls(
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
            max_points=settings.max_points_per_message,
            max_bytes=settings.max_message_bytes,
            max_age=timedelta(days=settings.max_reading_age_days),
        )

    @property
    def max_bytes(self) -> int:
        """The largest payload accepted."""
        return self._max_bytes

    @property
    def future_tolerance(self) -> timedelta:
        """How far after its receipt a measurement (or a device report) may be dated."""
        return self._tolerance

    def parse(self, payload: bytes, *, now: datetime) -> ParsedMessage:
        """Validate and normalize one MQTT payload. Never raises for any payload.

        ``now`` must be timezone-aware; a naive one raises
        :class:`~ingest.exceptions.ValidatorUsageError` (a caller bug).
        """
        if now.utcoffset() is None:
            raise ValidatorUsageError("now must be timezone-aware")
        size = len(payload)
        if size > self._max_bytes:
            return _whole(
                RejectionCode.PAYLOAD_TOO_LARGE,
                f"payload of {size} bytes exceeds the limit of {self._max_bytes} bytes",
            )
        try:
            document = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return _whole(RejectionCode.MALFORMED_JSON, "payload is not valid UTF-8 JSON")
        try:
            limit = now + self._tolerance
        except OverflowError:
            limit = _LATEST
        earliest: datetime | None = None
        if self._max_age is not None:
            try:
                earliest = now - self._max_age
            except OverflowError:
                earliest = None
        if type(document) is dict:
            result = self._point(document, 0, limit, earliest)
            if isinstance(result, ParsedPoint):
                return ParsedMessage(((0, result),), ())
            return ParsedMessage((), (result,))
        if type(document) is not list or not document:
            return _whole(
                RejectionCode.SCHEMA_INVALID,
                "payload must be a data point object or a non-empty array of them",
            )
        if len(document) > self._max_points:
            return _whole(
                RejectionCode.PAYLOAD_TOO_LARGE,
                f"array of {len(document)} data points exceeds the limit of {self._max_points}",
            )
        points: list[tuple[int, ParsedPoint]] = []
        rejections: list[Rejection] = []
        for index, item in enumerate(document):
            result = self._point(item, index, limit, earliest)
            if isinstance(result, ParsedPoint):
                points.append((index, result))
            else:
                rejections.append(result)
        return ParsedMessage(points=tuple(points), rejections=tuple(rejections))

    def _point(
        self, item: Any, index: int, limit: datetime, earliest: datetime | None
    ) -> ParsedPoint | Rejection:
        """One data point of the payload, at ``index``."""
        header = item.get("header") if type(item) is dict else None
        header_id: str | None = None
        schema = None
        if type(header) is dict:
            found = header.get("id")
            header_id = found if type(found) is str else None
            if header_id is not None and "\x00" in header_id:
                # PostgreSQL text cannot hold it: refused here, not by the database
                detail = "header.id: must not contain a NUL character"
                return Rejection(RejectionCode.SCHEMA_INVALID, detail, None, index)
            schema_id = header.get("schema_id")
            if type(schema_id) is dict:
                namespace = schema_id.get("namespace")
                name = schema_id.get("name")
                version = schema_id.get("version")
                if type(namespace) is str and type(name) is str and type(version) is str:
                    key = (namespace, name, version)
                    schema = self._schemas.get(key)
                    if schema is None:
                        return Rejection(
                            RejectionCode.SCHEMA_UNSUPPORTED,
                            f"schema {':'.join(_clip(part, 40) for part in key)} is not supported",
                            header_id,
                            index,
                        )
        if schema is None:
            problem = explain(self._generic, item) or "header.schema_id is not usable"
            return Rejection(RejectionCode.SCHEMA_INVALID, problem, header_id, index)
        if not schema.fast(item):
            why = explain(schema.reference, item)
            if why is not None:
                return Rejection(RejectionCode.SCHEMA_INVALID, why, header_id, index)
        try:
            return normalize(schema.measure, schema.version, item, limit=limit, earliest=earliest)
        except PointRejectedError as rejected:
            return Rejection(rejected.code, rejected.detail, header_id, index)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            # Only reachable if a schema admits a shape normalize() does not
            # expect; reject the point rather than break the subscriber.
            detail = f"data point could not be read ({type(exc).__name__})"
            return Rejection(RejectionCode.SCHEMA_INVALID, detail, header_id, index)


def explain(validator: CompiledValidator, item: Any) -> str | None:
    """Why ``item`` fails ``validator`` in a short sentence, None if it passes.

    Names the field and the broken rule, never the field's value.
    """
    try:
        validator(item)
    except JsonSchemaValueException as exc:
        return _describe(exc)
    return None


def _describe(exc: JsonSchemaValueException) -> str:
    if exc.rule == "oneOf":
        inner = _inside_one_of(exc)
        if inner is not None:
            return _describe(inner)
    name = exc.name or "data"
    path = name[5:] if name.startswith("data.") else "data point"
    rule = exc.rule
    expected = exc.rule_definition
    if rule == "required" and isinstance(exc.value, dict) and isinstance(expected, list):
        missing = [key for key in expected if key not in exc.value]
        text = f"{path}: missing required {', '.join(missing)}"
    elif rule == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        text = f"{path}: must be of type {' or '.join(map(str, kinds))}"
    elif rule == "enum" and isinstance(expected, list):
        choices = ", ".join(map(str, expected))
        if len(choices) > 120:
            choices = choices[:119] + "…"
        text = f"{path}: not one of the allowed values ({choices})"
    elif rule in ("format", "pattern") and _is_date_time(exc.definition):
        text = f"{path}: must be an RFC 3339 date-time with a time zone offset"
    elif rule == "oneOf":
        text = f"{path}: must match exactly one of {_forms(exc.definition)}"
        matched = _MATCHES.search(exc.message)
        if matched:
            text += f" ({matched.group(1)} matched)"
    else:
        text = f"{path}: {exc.message.split(' ', 1)[-1]}"
    return _clip(text, _DETAIL_SIZE)


def _is_date_time(definition: Any) -> bool:
    return isinstance(definition, dict) and definition.get("format") == "date-time"


def _inside_one_of(exc: JsonSchemaValueException) -> JsonSchemaValueException | None:
    """The error inside the one ``oneOf`` branch the value was evidently meant for.

    A branch is "meant" when all its required properties are present; with
    exactly one such branch, its own first error is the useful one (say, a bad
    ``date_time`` rather than "matches no alternative").
    """
    branches = exc.definition.get("oneOf") if isinstance(exc.definition, dict) else None
    if not isinstance(branches, list) or not isinstance(exc.value, dict):
        return None
    meant = [
        branch
        for branch in branches
        if isinstance(branch, dict)
        and branch.get("required")
        and all(key in exc.value for key in branch["required"])
    ]
    if len(meant) != 1:
        return None
    try:
        _branch_validator(orjson.dumps(meant[0], option=orjson.OPT_SORT_KEYS))(
            exc.value, name_prefix=exc.name
        )
    except JsonSchemaValueException as inner:
        return inner
    return None


@functools.lru_cache(maxsize=64)
def _branch_validator(schema: bytes) -> CompiledValidator:
    return compile_schema(orjson.loads(schema))


_MATCHES: Final = re.compile(r"\((\d+) matches found\)")


def _forms(definition: Any) -> str:
    """``a+b, c``: the required properties of each ``oneOf`` branch."""
    branches = definition.get("oneOf") if isinstance(definition, dict) else None
    forms = [
        "+".join(branch["required"])
        for branch in branches or ()
        if isinstance(branch, dict) and branch.get("required")
    ]
    return ", ".join(forms) if forms and len(forms) == len(branches or ()) else "its forms"


def _whole(code: RejectionCode, detail: str) -> ParsedMessage:
    return ParsedMessage(points=(), rejections=(Rejection(code, detail),))


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
