"""Database access: connections, the pool, and versioned migrations.

Repository functions elsewhere take a connection and never commit; whoever
opens the transaction owns it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import resources
from typing import Any, LiteralString, cast

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from hub.exceptions import AppRoleError, DatabaseNotReadyError, MigrationError, SchemaBehindError
from hub.measures import SPECS, DeviceKind
from hub.settings import Settings
from hub.sql import as_query, queries

log = logging.getLogger(__name__)

#: The connection type repository functions take (rows as tuples or dicts).
Conn = psycopg.Connection[Any]
#: Opens a second connection to the same database (a long read beside a pass's own
#: transaction: the billing export's and the daily forecast's readings).
Reader = Callable[[], AbstractContextManager[Conn]]

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serializes concurrent `migrate` calls (API and worker starting together).
_MIGRATION_LOCK = 0x4C4D_0001


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: LiteralString
    checksum: str


def migrations() -> list[Migration]:
    """The migrations shipped with the hub, in version order."""
    found: list[Migration] = []
    for entry in resources.files("hub.migrations").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if not match:
            continue
        text = entry.read_text(encoding="utf-8")
        found.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                sql=as_query(text),
                checksum=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        msg = f"migration versions must be 1..n without gaps, got {versions}"
        raise MigrationError(msg)
    return found


#: psycopg prepares a statement on the server after it ran five times on a
#: connection. A prepared plan over a hypertable lists the chunks that existed
#: when it was planned, and inside one transaction PostgreSQL does not replan
#: it when TimescaleDB adds a chunk: a long read transaction would silently
#: miss readings in a new chunk (reproduced in tests/test_db.py). Planning
#: each statement costs well under a millisecond, so the hub never auto-prepares.
PREPARE_THRESHOLD: None = None


def connect(
    settings: Settings, *, dbname: str | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    """One connection, outside the pool (workers, CLI commands, tests)."""
    return psycopg.connect(
        settings.conninfo_for(dbname or settings.pg_database), prepare_threshold=PREPARE_THRESHOLD
    )


#: The API's database role (migration 0016): no UPDATE, DELETE or TRUNCATE on
#: the audit log. Its password is derived from the owner's, so a deployment
#: has no extra secret to keep.
APP_ROLE = "lastmile_app"


def role_password(settings: Settings, role: str) -> str:
    """A role's password derived from the owner's (the API's, the replica's replication role)."""
    owner = settings.pg_password.get_secret_value().encode()
    return hmac.new(owner, role.encode(), hashlib.sha256).hexdigest()


def app_password(settings: Settings) -> str:
    return role_password(settings, APP_ROLE)


def app_conninfo(settings: Settings) -> str:
    """libpq connection string for the API's role on the hub's database."""
    return make_conninfo(
        settings.conninfo_for(settings.pg_database), user=APP_ROLE, password=app_password(settings)
    )


def app_read_conninfo(settings: Settings) -> str | None:
    """The API's role on the read replica's copy of the database; None without a replica."""
    read = settings.read_conninfo
    if read is None:
        return None
    return make_conninfo(read, user=APP_ROLE, password=app_password(settings))


def ensure_app_role(conn: psycopg.Connection[tuple[object, ...]], settings: Settings) -> None:
    """Let the API's role log in with its password (the owner's connection; commits)."""
    password = sql.Literal(app_password(settings))
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(verb, sql.Identifier(APP_ROLE), password)
        )


def make_pool(
    settings: Settings,
    *,
    max_size: int | None = None,
    conninfo: str | None = None,
    wait: bool = True,
    timeouts: bool = False,
) -> ConnectionPool:
    """A pool on the hub's database, as the owner or as ``conninfo`` says.

    ``wait``: block until the first connection is made (30 s at most). With
    ``timeouts`` (the API's pools) a caller waits at most ``pg_pool_timeout_s``
    for a connection, each statement at most ``pg_statement_timeout_s``, and a
    connection is checked as it is handed out, so one that died with its
    server is replaced rather than failing the request that gets it.
    """
    extra: dict[str, Any] = {}
    if timeouts:
        ms = round(settings.pg_statement_timeout_s * 1000)

        def configure(conn: Conn) -> None:
            conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{ms}ms",))
            conn.commit()

        extra = {
            "timeout": settings.pg_pool_timeout_s,
            "configure": configure,
            "check": ConnectionPool.check_connection,
        }
    pool = ConnectionPool(
        conninfo or settings.conninfo,
        min_size=1,
        max_size=max_size or settings.pg_pool_max,
        open=False,
        name="lastmile",
        kwargs={"prepare_threshold": PREPARE_THRESHOLD},
        **extra,
    )
    pool.open(wait=wait, timeout=30)
    return pool


def fresh_database(settings: Settings, name: str) -> Settings:
    """Drop and recreate database ``name``, migrate it, and return settings for it.

    For benchmark and evaluation runs; the ingest session gets a client id of
    its own so the hub's real session is not touched.
    """
    with connect(settings, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    fresh = settings.model_copy(
        update={"pg_database": name, "mqtt_ingest_client_id": f"lastmile-ingest-{name}"}
    )
    migrate_database(fresh)
    return fresh


def migrate_database(settings: Settings) -> list[int]:
    """``lastmile db migrate``: apply pending migrations and let the API's role log in.

    The one step that changes the schema; the API only checks it
    (:func:`require_current_schema`). Returns the versions applied.
    """
    with connect(settings) as conn:
        applied = migrate(conn)
        ensure_app_role(conn, settings)
    return applied


def pending_migrations(conn: Conn) -> list[Migration]:
    """The shipped migrations this database has not applied (all of them when it has none)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    applied: set[int] = set()
    if row is not None and row[0]:
        applied = {int(v) for (v,) in conn.execute("SELECT version FROM schema_migrations")}
    return [m for m in migrations() if m.version not in applied]


def require_current_schema(conn: Conn) -> None:
    """Raise :class:`SchemaBehindError` unless every shipped migration is applied."""
    pending = pending_migrations(conn)
    if pending:
        raise SchemaBehindError([f"{m.version:04d}_{m.name}" for m in pending])


def require_api_ready(settings: Settings) -> None:
    """Raise unless the API can serve the database: its role logs in, the schema is current.

    :class:`AppRoleError` or :class:`SchemaBehindError` (both answered by
    ``lastmile db migrate``), after one coded log line (``api_refused``); an
    unreachable server is psycopg's error.
    """
    try:
        try:
            conn = psycopg.connect(app_conninfo(settings), prepare_threshold=PREPARE_THRESHOLD)
        except psycopg.OperationalError as exc:
            # libpq gives no SQLSTATE for a refused login: if the owner gets in, the
            # server is there and it is the API's role that cannot.
            connect(settings).close()
            raise AppRoleError from exc
        with conn:
            require_current_schema(conn)
    except DatabaseNotReadyError as exc:
        log.error("api_refused", extra={"code": exc.code, "detail": str(exc)})
        raise


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply the migrations not yet applied; return the versions applied.

    Runs in its own transaction per migration under an advisory lock, and
    refuses to go on if an applied migration's file was changed afterwards.
    """
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        done = {cast(int, v): cast(str, c) for v, c in rows}
        for migration in migrations():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    msg = (
                        f"migration {migration.version:04d}_{migration.name} was changed "
                        "after it was applied; add a new migration instead"
                    )
                    raise MigrationError(msg)
                continue
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            log.info("migration applied", extra={"version": migration.version})
            applied_now.append(migration.version)
        seed_catalogue(conn)
    return applied_now


def seed_catalogue(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Write the measure spec's measures and device kinds to their tables.

    Adds what is new and updates codes; a measure whose canonical unit differs
    from the one its stored readings are in raises :class:`MigrationError`.
    Does not commit (:func:`migrate` calls it inside its transaction).
    """
    specs = list(SPECS.values())
    conn.execute(
        queries["upsert_measures"],
        {
            "names": [s.measure.value for s in specs],
            "units": [s.unit for s in specs],
            "ucums": [s.ucum for s in specs],
            "loincs": [s.loinc for s in specs],
        },
    )
    stored = dict(cast(list[tuple[str, str]], conn.execute(queries["measure_units"]).fetchall()))
    for s in specs:
        if stored[s.measure.value] != s.unit:
            msg = (
                f"measure {s.measure.value} is stored in {stored[s.measure.value]}, "
                f"the spec says {s.unit}: stored readings would be misread"
            )
            raise MigrationError(msg)
    conn.execute(queries["upsert_device_kinds"], {"names": [k.value for k in DeviceKind]})
