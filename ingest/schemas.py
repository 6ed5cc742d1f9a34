"""The bundled Open mHealth / IEEE 1752.1 schemas, inlined and compiled.

Schema files live beside this module, in ``ingest/schemas/``:

``omh/``
    Official Open mHealth schemas, copied unchanged (Apache 2.0, see
    ``omh/NOTICE.md``). Files named ``*-1.x.json`` are *aliases*: upstream they
    are symlinks, here they hold the name of the file they point to.
``ieee-1752/``
    IEEE 1752.1 schemas referenced by the newer OMH schemas, authored for
    Lastmile from the standard's definitions.

References are resolved **by file**, never through a schema's ``$id``
(``omh/body-weight-3.0.json`` carries the ``$id`` of body-weight 2.0
upstream): a relative ``$ref`` names a file in the referring file's folder, and
the two absolute bases we know (``https://w3id.org/openmhealth/schemas/omh/``
and ``https://w3id.org/ieee/ieee-1752-schema/``, http or https) map to the two
folders. Anything else is a :class:`~ingest.exceptions.SchemaLoadError`:
nothing is ever fetched from the network.

Every ``$ref`` is inlined at load time, so each supported ``(measure,
version)`` becomes one self-contained schema of a whole data point (header,
schema id and body), compiled twice: by fastjsonschema
(:func:`reference_validator`, the reference, with messages) and by
:mod:`ingest.fastcheck` (:func:`fast_predicate`, a yes/no fast path). Only
keywords whose meaning is the same in drafts 04 and 07 survive inlining
(anything else fails loudly), so the mixed-draft result compiles as draft 07.

>>> from hub.domain import Measure
>>> check = reference_validator(Measure.HEART_RATE, "2.0")
>>> point = {
...     "header": {
...         "id": "a",
...         "creation_date_time": "2024-01-01T00:00:00Z",
...         "schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"},
...     },
...     "body": {
...         "heart_rate": {"value": 61, "unit": "beats/min"},
...         "effective_time_frame": {"date_time": "2024-01-01T00:00:00Z"},
...     },
... }
>>> check(point) is point
True
>>> fast_predicate(Measure.HEART_RATE, "2.0")(point)
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import fastjsonschema
import orjson

from hub.domain import SUPPORTED_VERSIONS, Measure
from ingest.exceptions import SchemaLoadError
from ingest.fastcheck import (
    LITERAL_KEYWORDS,
    SCHEMA_KEYWORDS,
    SCHEMA_LIST_KEYWORDS,
    SCHEMA_MAP_KEYWORDS,
    Predicate,
    compile_predicate,
)

#: Where the schema files are.
SCHEMA_ROOT: Final = Path(__file__).resolve().with_name("schemas")

#: A fastjsonschema validator: returns its argument or raises ``JsonSchemaValueException``.
CompiledValidator = Callable[..., Any]

_DRAFT_07: Final = "http://json-schema.org/draft-07/schema#"

#: Absolute ``$ref`` prefixes we resolve, and the folder each maps to.
_BASES: Final[Mapping[str, str]] = {
    "https://w3id.org/openmhealth/schemas/omh/": "omh",
    "http://w3id.org/openmhealth/schemas/omh/": "omh",
    "https://w3id.org/ieee/ieee-1752-schema/": "ieee-1752",
    "http://w3id.org/ieee/ieee-1752-schema/": "ieee-1752",
}

#: Annotations and bookkeeping: dropped from the inlined schema.
_DROPPED: Final = frozenset(
    {"$schema", "$id", "id", "$comment", "title", "description", "references", "deprecation"}
)


def schema_file(measure: Measure, version: str) -> str:
    """The bundled file (relative to :data:`SCHEMA_ROOT`) of one body schema.

    >>> schema_file(Measure.BODY_WEIGHT, "3.0")
    'omh/body-weight-3.0.json'
    """
    return f"omh/{measure.value}-{version}.json"


class SchemaBundle:
    """Reads schema files from a folder tree and inlines their ``$ref``s."""

    def __init__(self, root: Path = SCHEMA_ROOT) -> None:
        self._root = root
        self._docs: dict[str, Any] = {}

    def load(self, key: str) -> tuple[str, Any]:
        """The document ``key`` (``folder/file``), following alias files.

        Returns the key of the file that holds the schema and its JSON.
        """
        seen: list[str] = []
        while key not in self._docs:
            if key in seen or len(seen) > 8:
                raise SchemaLoadError(f"alias loop at {key}")
            seen.append(key)
            folder, _, name = key.partition("/")
            if folder not in _BASES.values() or not name or "/" in name or name.startswith("."):
                raise SchemaLoadError(f"schema outside the bundle: {key!r}")
            path = self._root / folder / name
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise SchemaLoadError(f"cannot read schema {key}: {exc}") from exc
            text = raw.strip()
            if text[:1] != b"{":
                # An alias file: its content is the name of the real file.
                key = f"{folder}/{text.decode('ascii', 'replace')}"
                continue
            try:
                self._docs[key] = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise SchemaLoadError(f"schema {key} is not JSON: {exc}") from exc
        return key, self._docs[key]

    def loaded(self) -> list[str]:
        """Keys of the schema files read so far (aliases resolved)."""
        return sorted(self._docs)

    def inlined(self, key: str) -> dict[str, Any]:
        """Document ``key`` with every ``$ref`` replaced by what it points to."""
        key, doc = self.load(key)
        result = self._inline(doc, key, doc, (key,))
        if not isinstance(result, dict):
            raise SchemaLoadError(f"schema {key} is not an object")
        return result

    def _resolve(self, ref: str, key: str) -> tuple[str, Any, Any]:
        """``ref`` seen in document ``key`` → (target key, its document, target node)."""
        where, _, fragment = ref.partition("#")
        if where:
            for base, folder in _BASES.items():
                if where.startswith(base):
                    where = f"{folder}/{where[len(base) :]}"
                    break
            else:
                if ":" in where or where.startswith("/"):
                    raise SchemaLoadError(f"$ref {ref!r} in {key} leaves the bundle")
                where = f"{key.partition('/')[0]}/{where}"
            key, doc = self.load(where)
        else:
            doc = self._docs[key]
        node = doc
        for part in fragment.split("/")[1:] if fragment else ():
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise SchemaLoadError(f"$ref {ref!r} in {key} points nowhere") from exc
        return key, doc, node

    def _inline(self, node: Any, key: str, doc: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise SchemaLoadError(f"{key}: a subschema must be an object, got {node!r}")
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str):
                raise SchemaLoadError(f"{key}: $ref must be a string")
            target_key, target_doc, target = self._resolve(ref, key)
            marker = f"{target_key}#{ref.partition('#')[2]}"
            if marker in stack:
                raise SchemaLoadError(f"recursive $ref {ref!r} in {key}")
            # Siblings of $ref are ignored in drafts 04-07: the target replaces the node.
            return self._inline(target, target_key, target_doc, (*stack, marker))
        out: dict[str, Any] = {}
        for word, value in node.items():
            if word in _DROPPED or word == "definitions":
                continue
            if word in SCHEMA_MAP_KEYWORDS:
                out[word] = {n: self._inline(s, key, doc, stack) for n, s in value.items()}
            elif word in SCHEMA_LIST_KEYWORDS:
                out[word] = [self._inline(s, key, doc, stack) for s in value]
            elif word in SCHEMA_KEYWORDS:
                out[word] = self._inline(value, key, doc, stack)
            elif word in LITERAL_KEYWORDS:
                out[word] = value
            else:
                raise SchemaLoadError(f"{key}: keyword {word!r} is not vetted for inlining")
        return out


def compile_schema(schema: dict[str, Any]) -> CompiledValidator:
    """Compile an inlined schema with fastjsonschema (draft 07, no defaults).

    The inlined schema mixes draft-04 and draft-07 files; only keywords that
    mean the same in both survive inlining, so compiling it as draft 07 is
    faithful. Exceptions are detailed: this validator runs when a point looks
    invalid, to decide and to say why.
    """
    try:
        validator: CompiledValidator = fastjsonschema.compile(
            {"$schema": _DRAFT_07, **schema},
            handlers={},
            use_default=False,
            detailed_exceptions=True,
        )
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise SchemaLoadError(f"cannot compile schema: {exc}") from exc
    return validator


@functools.cache
def _bundle() -> SchemaBundle:
    return SchemaBundle()


def point_schema(measure: Measure | None, version: str | None) -> dict[str, Any]:
    """The self-contained schema of a whole data point.

    With a measure and version, ``body`` must also match that body schema;
    with ``None`` only the data-point/header schema applies.
    """
    bundle = _bundle()
    schema = bundle.inlined("omh/data-point-1.0.json")
    if measure is not None and version is not None:
        if version not in SUPPORTED_VERSIONS[measure]:
            raise SchemaLoadError(f"{measure.value} {version} is not a supported version")
        body = bundle.inlined(schema_file(measure, version))
        properties = dict(schema.get("properties", {}))
        properties["body"] = {"allOf": [properties.get("body", {}), body]}
        schema = {**schema, "properties": properties}
    return schema


@functools.cache
def reference_validator(measure: Measure | None, version: str | None) -> CompiledValidator:
    """fastjsonschema validator of :func:`point_schema`, compiled once per process."""
    return compile_schema(point_schema(measure, version))


@functools.cache
def fast_predicate(measure: Measure | None, version: str | None) -> Predicate:
    """:mod:`ingest.fastcheck` predicate of :func:`point_schema`, compiled once per process."""
    return compile_predicate(point_schema(measure, version))
