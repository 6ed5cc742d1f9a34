"""The database settings: a whole libpq string or URI, or the keyword parts, quoted by psycopg.

A role whose password holds a space, both quotes and a backslash logs in to
the real server through each form (the string pasting this replaced broke on
the first of them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr, ValidationError

from hub.db import connect
from hub.settings import Settings, load_settings

pytestmark = pytest.mark.services

#: A space, a single and a double quote, a backslash, and an equals sign.
AWKWARD_PASSWORD = "pa ss'w\"ord\\ = x"


@pytest.fixture(scope="module")
def awkward_role(services: Settings) -> Iterator[str]:
    """A role that logs in with :data:`AWKWARD_PASSWORD`; dropped afterwards."""
    name = f"t_quoted_{uuid.uuid4().hex[:8]}"
    with connect(services, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(AWKWARD_PASSWORD)
            )
        )
    yield name
    with connect(services, dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _whoami(conninfo: str) -> tuple[str, str]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT current_user, current_database()").fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _libpq_quoted(value: str) -> str:
    """``value`` as a libpq keyword value, quoted by hand the way libpq reads it."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(data_dir=tmp_path)  # no env file: only what is set here


def test_keyword_parts_with_an_awkward_password_connect(
    services: Settings, awkward_role: str
) -> None:
    settings = services.model_copy(
        update={"pg_user": awkward_role, "pg_password": SecretStr(AWKWARD_PASSWORD)}
    )
    assert _whoami(settings.conninfo_for("postgres")) == (awkward_role, "postgres")


def test_a_keyword_database_url_connects(
    services: Settings, awkward_role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = (
        f"host={services.pg_host} port={services.pg_port} user={awkward_role} "
        f"password={_libpq_quoted(AWKWARD_PASSWORD)} dbname=postgres sslmode=disable"
    )
    settings = _from_env(monkeypatch, tmp_path, LASTMILE_DATABASE_URL=url)
    # The parts not given take the URL's, so the services and messages name the real server.
    assert (settings.pg_host, settings.pg_port) == (services.pg_host, services.pg_port)
    assert settings.pg_password.get_secret_value() == AWKWARD_PASSWORD
    assert _whoami(settings.conninfo) == (awkward_role, "postgres")
    assert "sslmode=disable" in settings.conninfo
    with connect(settings) as conn:  # what the hub itself uses
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
        assert row[0] == awkward_role


def test_a_uri_database_url_connects(
    services: Settings, awkward_role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = (
        f"postgresql://{awkward_role}:{quote(AWKWARD_PASSWORD, safe='')}"
        f"@{services.pg_host}:{services.pg_port}/postgres?application_name=quoted"
    )
    settings = _from_env(monkeypatch, tmp_path, LASTMILE_DATABASE_URL=url)
    assert settings.pg_database == "postgres"
    assert _whoami(settings.conninfo) == (awkward_role, "postgres")
    with psycopg.connect(settings.conninfo) as conn:
        row = conn.execute("SELECT current_setting('application_name')").fetchone()
        assert row == ("quoted",)


def test_a_part_given_as_well_overrides_the_url(
    services: Settings, awkward_role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The tests and benchmarks point one server's settings at another database this way."""
    url = f"postgresql://{awkward_role}:{quote(AWKWARD_PASSWORD, safe='')}@{services.pg_host}/x"
    settings = _from_env(
        monkeypatch,
        tmp_path,
        LASTMILE_DATABASE_URL=url,
        LASTMILE_PG_PORT=str(services.pg_port),
        LASTMILE_PG_DATABASE="postgres",
    )
    assert _whoami(settings.conninfo) == (awkward_role, "postgres")


def test_the_read_url_takes_the_server_and_keeps_the_primarys_login(
    services: Settings, awkward_role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The "replica" here is the primary itself, reached by a URI naming only where it is;
    # tests/services/test_replica.py reads from a real hot standby.
    settings = _from_env(
        monkeypatch,
        tmp_path,
        LASTMILE_PG_HOST="192.0.2.1",  # TEST-NET-1: the primary is never dialled here
        LASTMILE_PG_PORT="1",
        LASTMILE_PG_USER=awkward_role,
        LASTMILE_PG_PASSWORD=AWKWARD_PASSWORD,
        LASTMILE_PG_DATABASE="postgres",
        LASTMILE_DATABASE_READ_URL=f"postgresql://{services.pg_host}:{services.pg_port}",
    )
    assert settings.read_conninfo is not None
    assert _whoami(settings.read_conninfo) == (awkward_role, "postgres")


def test_the_read_url_may_name_its_own_awkward_login(
    services: Settings, awkward_role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    read_url = (
        f"host={services.pg_host} port={services.pg_port} "
        f"user={awkward_role} password={_libpq_quoted(AWKWARD_PASSWORD)}"
    )
    settings = _from_env(
        monkeypatch,
        tmp_path,
        LASTMILE_PG_DATABASE="postgres",
        LASTMILE_DATABASE_READ_URL=read_url,
    )
    assert settings.read_conninfo is not None
    assert _whoami(settings.read_conninfo) == (awkward_role, "postgres")


def test_no_read_url_means_no_replica() -> None:
    settings = Settings(pg_password=SecretStr("x"))
    assert settings.read_conninfo is None
    assert settings.read_conninfo_for("lastmile") == settings.conninfo


@pytest.mark.parametrize("name", ["LASTMILE_DATABASE_URL", "LASTMILE_DATABASE_READ_URL"])
def test_a_malformed_url_is_refused_without_echoing_it(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(name, "host=db password=hunter2secret stray")
    with pytest.raises(ValidationError) as refused:
        load_settings(data_dir=tmp_path)
    assert name in str(refused.value)
    assert "hunter2secret" not in str(refused.value)
