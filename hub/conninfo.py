"""libpq connection strings for the settings: built by psycopg, never pasted together.

:mod:`hub.settings` holds the values; this module only combines them. A
connection is either keyword parts or one string or URI whose parts the
keyword parts override; a read replica's is the primary's with another
server. Errors never echo the string: it holds a password.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: libpq keyword -> the Settings field it fills when ``database_url`` names it.
URL_PARTS = {
    "host": "pg_host",
    "port": "pg_port",
    "user": "pg_user",
    "password": "pg_password",
    "dbname": "pg_database",
}

#: What picks the server: the primary's are not the replica's.
_SERVER_CHOICE = ("host", "hostaddr", "port", "target_session_attrs", "load_balance_hosts")


def parse(text: str, name: str) -> dict[str, str]:
    """A libpq string or URI as its parts; ``ValueError`` naming ``name``, not the text.

    >>> parse("postgresql://u:a%20b@db:5433/hub", "URL")["password"]
    'a b'
    """
    try:
        return {key: str(part) for key, part in conninfo_to_dict(text).items()}
    except psycopg.ProgrammingError:
        msg = f"{name} is neither a libpq connection string (key=value ...) nor a postgresql:// URI"
        raise ValueError(msg) from None


def url_fills(url: dict[str, str], given: set[str]) -> dict[str, str]:
    """The Settings fields the URL's parts fill: those not ``given``, and no host or port list.

    >>> url_fills({"host": "a,b", "port": "1,2", "user": "u"}, given={"pg_user"})
    {}
    """
    filled = {
        field: url[key]
        for key, field in URL_PARTS.items()
        if key in url and field not in given and "," not in url[key]
    }
    if not filled.get("pg_port", "0").isdigit():
        del filled["pg_port"]
    return filled


def primary(
    url: dict[str, str] | None,
    parts: dict[str, Any],
    *,
    defaults: dict[str, Any],
    dbname: str,
) -> str:
    """``defaults``, overridden by the URL's parts (if any), then by the keyword ``parts``.

    A URL's list of hosts (failover) keeps its hosts and ports. ``None`` values
    are left out (an empty password is no password).

    >>> primary({"host": "db", "sslmode": "require"}, {"host": "h", "port": 1, "password": None},
    ...         defaults={"connect_timeout": 5}, dbname="hub")
    'connect_timeout=5 host=h sslmode=require port=1 dbname=hub'
    """
    base = dict(url or {})
    parts = dict(parts)
    if "," in base.get("host", "") + base.get("hostaddr", "") + base.get("port", ""):
        del parts["host"], parts["port"]
    return make_conninfo("", **{**defaults, **base, **parts, "dbname": dbname})


def replica(primary_conninfo: str, read_url: dict[str, str]) -> str:
    """The primary's connection with the read URL's server and options (not its dbname)."""
    params: dict[str, Any] = dict(conninfo_to_dict(primary_conninfo))
    for key in _SERVER_CHOICE:
        params.pop(key, None)
    read = {key: value for key, value in read_url.items() if key != "dbname"}
    return make_conninfo("", **{**params, **read})
