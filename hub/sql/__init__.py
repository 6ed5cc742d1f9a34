"""Named SQL queries, loaded once from the ``.sql`` files beside this module.

Each file holds blocks introduced by ``-- name: <query_name>``; a query is
looked up as ``queries["query_name"]``. Query names are unique across files.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import LiteralString

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def as_query(text: str) -> LiteralString:
    """Mark SQL read from the package's own files as a query literal."""
    # The files ship with the package: they are literals as far as the caller
    # is concerned, never built from input. (mypy treats LiteralString as str,
    # so no cast is needed for it; the return type states the intent.)
    return text


def _parse(text: str, source: str) -> dict[str, LiteralString]:
    found: dict[str, LiteralString] = {}
    parts = _NAME.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        query = body.strip()
        if not query:
            msg = f"query {name!r} in {source} is empty"
            raise ValueError(msg)
        found[name] = as_query(query)
    return found


def load_queries() -> dict[str, LiteralString]:
    """Read every ``*.sql`` file of this package into one name → query map."""
    queries: dict[str, LiteralString] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        for name, query in _parse(entry.read_text(encoding="utf-8"), entry.name).items():
            if name in queries:
                msg = f"query {name!r} is defined twice"
                raise ValueError(msg)
            queries[name] = query
    return queries


queries: dict[str, LiteralString] = load_queries()
