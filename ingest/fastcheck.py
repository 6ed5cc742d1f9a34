"""Compile a vetted JSON Schema subset into a fast yes/no predicate.

fastjsonschema is the reference validator of the hub, but the code it
generates spends most of its time raising exceptions inside ``oneOf``
branches and copying key sets: about 13 µs for one decoded blood-pressure data
point, most of the hub's budget for a whole message. This module compiles the
*same inlined schema* into a predicate that only answers "valid or not", with
no exceptions and no messages, in about 4 µs. The hub uses it as a fast path:
when it says "valid" the point is accepted; when it says "invalid" the
fastjsonschema validator decides and explains (``ingest.validation``). A
differential property test keeps the two in agreement
(``tests/ingest/test_validation.py``), as does the conformance data.

Only keywords whose meaning is identical in drafts 04, 06 and 07 are accepted:
``type`` (object, string, number, boolean, null), ``enum`` of strings,
``required``, ``properties``, ``allOf``, ``anyOf``, ``oneOf``, ``not``,
``format`` (fastjsonschema's own regular expressions, so ``date-time`` means
exactly what it means there), ``pattern`` (``$`` read as end of string, like
fastjsonschema), ``minLength``, ``maxLength``, ``minimum``, ``maximum``.
Anything else raises :class:`~ingest.exceptions.SchemaLoadError`.

Values are expected as :func:`orjson.loads` returns them (plain ``dict``,
``list``, ``str``, ``int``, ``float``, ``bool``, ``None``).

>>> check = compile_predicate({
...     "type": "object",
...     "required": ["unit"],
...     "properties": {"unit": {"enum": ["kg", "lb"]}},
...     "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
... })
>>> check({"unit": "kg", "a": 1}), check({"unit": "kg", "a": 1, "b": 2}), check({"unit": "st"})
(True, False, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import orjson
from fastjsonschema.draft07 import CodeGeneratorDraft07

from ingest.exceptions import SchemaLoadError

#: A compiled predicate: True when the value matches the schema.
Predicate = Callable[[Any], bool]

#: Keywords holding a map of name -> subschema.
SCHEMA_MAP_KEYWORDS: Final = frozenset({"properties"})
#: Keywords holding a list of subschemas.
SCHEMA_LIST_KEYWORDS: Final = frozenset({"allOf", "anyOf", "oneOf"})
#: Keywords holding one subschema.
SCHEMA_KEYWORDS: Final = frozenset({"not"})
#: Keywords with a literal value.
LITERAL_KEYWORDS: Final = frozenset(
    {
        "type",
        "enum",
        "required",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
    }
)

_PY_TYPES: Final = {
    "object": "dict",
    "string": "str",
    "number": "int, float",
    "boolean": "bool",
    "null": "NoneType",
}
_FORMAT_REGEXES: Final[dict[str, str]] = dict(CodeGeneratorDraft07.FORMAT_REGEXS)
_DOLLAR: Final = re.compile(r"(?<!\\)\$")


class _Compiler:
    """Generates Python source: each check is ``if <invalid>: return False``.

    Subschemas are inlined into their parent's function; only ``anyOf`` /
    ``oneOf`` / ``not`` branches that need statements become functions.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"NoneType": type(None), "_M": object()}
        self._functions: dict[bytes, str] = {}
        self._constants: dict[str, str] = {}
        self._names = 0

    def constant(self, value: Any, key: str) -> str:
        name = self._constants.get(key)
        if name is None:
            name = f"_k{len(self._constants)}"
            self._constants[key] = name
            self.namespace[name] = value
        return name

    def variable(self) -> str:
        self._names += 1
        return f"x{self._names}"

    def function(self, schema: Any) -> str:
        """Name of a generated function checking ``schema``."""
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
        name = self._functions.get(key)
        if name is None:
            name = f"_s{len(self._functions)}"
            self._functions[key] = name
            body = self.statements(schema, "v", "    ")
            self.lines.extend([f"def {name}(v):", *body, "    return True"])
        return name

    def expression(self, schema: Any, var: str, known: str | None = None) -> str | None:
        """An expression true when ``var`` matches ``schema``, if one suffices.

        None when checking ``schema`` needs statements (it has ``properties``).
        """
        if isinstance(schema, bool):
            return repr(schema)
        _vet(schema)
        if schema.get("properties"):
            return None
        parts = []
        invalid = self.invalid(schema, var, known)
        if invalid:
            parts.append(f"not ({invalid})")
        types = _types(schema)
        if types is not None and len(types) == 1:
            known = types[0]
        required = _required(schema)
        if required:
            present = " and ".join(f"{r!r} in {var}" for r in required)
            guard = "" if known == "object" else f"type({var}) is not dict or "
            parts.append(f"({guard}({present}))")
        for sub in schema.get("allOf", ()):
            sub_expression = self.expression(sub, var, known)
            if sub_expression is None:
                return None
            parts.append(f"({sub_expression})")
        for word in ("anyOf", "oneOf", "not"):
            if word in schema:
                combined = self.combination(word, schema[word], var, known=known, inline_only=True)
                if combined is None:
                    return None
                parts.append(f"not ({combined})")
        return " and ".join(parts) or "True"

    def combination(
        self,
        word: str,
        value: Any,
        var: str,
        *,
        known: str | None = None,
        inline_only: bool = False,
    ) -> str | None:
        """An expression true when ``var`` FAILS the ``anyOf``/``oneOf``/``not``."""
        subs = [value] if word == "not" else list(value)
        tests = []
        for sub in subs:
            expression = self.expression(sub, var, known)
            if expression is None:
                if inline_only:
                    return None
                expression = f"{self.function(sub)}({var})"
            tests.append(f"({expression})")
        if word == "anyOf":
            return f"not ({' or '.join(tests) or 'False'})"
        if word == "oneOf":
            return f"({' + '.join(tests) or '0'}) != 1"
        return tests[0]

    def invalid(self, schema: dict[str, Any], var: str, known: str | None = None) -> str:
        """Condition under which ``var`` fails the scalar keywords of ``schema``."""
        conditions = []
        types = _types(schema)
        if types is not None and known not in types:
            if len(types) == 1 and "," not in _PY_TYPES[types[0]]:
                conditions.append(f"type({var}) is not {_PY_TYPES[types[0]]}")
            else:
                py = ", ".join(_PY_TYPES[t] for t in types)
                conditions.append(f"type({var}) not in ({py},)")
        if types is not None and len(types) == 1:
            known = types[0]
        if "enum" in schema:
            members = schema["enum"]
            k = self.constant(frozenset(members), "enum" + repr(sorted(members)))
            guard = "" if known == "string" else f"type({var}) is not str or "
            conditions.append(f"{guard}{var} not in {k}")
        strings = self.string_conditions(schema, var)
        if strings:
            guard = "" if known == "string" else f"type({var}) is str and "
            conditions.append(f"{guard}({' or '.join(strings)})")
        numbers = []
        for word, op in (("minimum", "<"), ("maximum", ">")):
            if word in schema:
                limit = schema[word]
                if isinstance(limit, bool) or not isinstance(limit, int | float):
                    raise SchemaLoadError(f"{word} must be a number")
                numbers.append(f"{var} {op} {limit!r}")
        if numbers:
            conditions.append(f"type({var}) in (int, float) and ({' or '.join(numbers)})")
        return " or ".join(f"({c})" for c in conditions)

    def string_conditions(self, schema: dict[str, Any], var: str) -> list[str]:
        out: list[str] = []
        for word, op in (("minLength", "<"), ("maxLength", ">")):
            if word in schema:
                limit = schema[word]
                if isinstance(limit, bool) or not isinstance(limit, int):
                    raise SchemaLoadError(f"{word} must be an integer")
                out.append(f"len({var}) {op} {limit}")
        if "pattern" in schema:
            pattern = schema["pattern"]
            try:
                regex = re.compile(_DOLLAR.sub(r"\\Z", pattern))
            except (re.error, TypeError) as exc:
                raise SchemaLoadError(f"bad pattern {pattern!r}") from exc
            k = self.constant(regex, "pattern" + pattern)
            out.append(f"{k}.search({var}) is None")
        fmt = schema.get("format")
        if fmt in _FORMAT_REGEXES:
            k = self.constant(re.compile(_FORMAT_REGEXES[fmt]), "format" + fmt)
            out.append(f"{k}.match({var}) is None")
        elif fmt == "regex":
            raise SchemaLoadError("format 'regex' is not supported by the fast path")
        return out

    def statements(self, schema: Any, var: str, pad: str, known: str | None = None) -> list[str]:
        """Statements that ``return False`` when ``var`` does not match ``schema``.

        ``known`` is a JSON type ``var`` is already known to have.
        """
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        _vet(schema)
        out = []
        invalid = self.invalid(schema, var, known)
        if invalid:
            out.append(f"{pad}if {invalid}: return False")
        types = _types(schema)
        if types is not None and len(types) == 1:
            known = types[0]
        object_lines = self.object_statements(schema, var, pad)
        if object_lines:
            if known == "object":
                out.extend(object_lines)
            else:
                out.append(f"{pad}if type({var}) is dict:")
                out.extend("    " + line for line in object_lines)
        for sub in schema.get("allOf", ()):
            out.extend(self.statements(sub, var, pad, known))
        for word in ("anyOf", "oneOf", "not"):
            if word in schema:
                failed = self.combination(word, schema[word], var, known=known)
                out.append(f"{pad}if {failed}: return False")
        return out

    def object_statements(self, schema: dict[str, Any], var: str, pad: str) -> list[str]:
        out: list[str] = []
        required = _required(schema)
        if required:
            missing = " or ".join(f"{r!r} not in {var}" for r in required)
            out.append(f"{pad}if {missing}: return False")
        for prop, sub in schema.get("properties", {}).items():
            if sub is True:
                continue
            x = self.variable()
            body = self.statements(sub, x, pad + "    ")
            if prop in required:
                out.append(f"{pad}{x} = {var}[{prop!r}]")
                out.extend(line[4:] for line in body)
            else:
                out.append(f"{pad}{x} = {var}.get({prop!r}, _M)")
                out.append(f"{pad}if {x} is not _M:")
                out.extend(body or [f"{pad}    pass"])
        return out


def _vet(schema: Any) -> None:
    if not isinstance(schema, dict):
        raise SchemaLoadError(f"a subschema must be an object, got {type(schema).__name__}")
    unknown = set(schema) - LITERAL_KEYWORDS - SCHEMA_MAP_KEYWORDS
    unknown -= SCHEMA_LIST_KEYWORDS | SCHEMA_KEYWORDS
    if "$ref" in schema or unknown:
        raise SchemaLoadError(f"keywords not supported by the fast path: {sorted(unknown)}")
    members = schema.get("enum", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise SchemaLoadError("only enums of strings are supported by the fast path")


def _types(schema: dict[str, Any]) -> list[str] | None:
    if "type" not in schema:
        return None
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not types or any(t not in _PY_TYPES for t in types):
        raise SchemaLoadError(f"type {schema['type']!r} not supported by the fast path")
    return list(types)


def _required(schema: dict[str, Any]) -> list[str]:
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaLoadError("required must list strings")
    return required


def compile_predicate(schema: dict[str, Any]) -> Predicate:
    """Compile an inlined (``$ref``-free) schema into a predicate."""
    compiler = _Compiler()
    root = compiler.function(schema)
    source = "\n".join(compiler.lines)
    namespace = compiler.namespace
    # The source is generated from the bundled schemas only; names and
    # literals are embedded with repr(), like fastjsonschema does.
    try:
        code = compile(source, "<ingest.fastcheck>", "exec")
    except (SyntaxError, RecursionError) as exc:  # e.g. more than 20 nested blocks
        raise SchemaLoadError(f"schema too deep for the fast path: {exc}") from exc
    exec(code, namespace)  # noqa: S102
    predicate: Predicate = namespace[root]
    return predicate
