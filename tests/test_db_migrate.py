"""``lastmile db migrate`` is the one step that changes the schema; the API only checks it.

The API refuses, with a coded log line and a non-zero exit, a database that
lacks a migration of its code or on which its role cannot log in, and it
changes nothing there.
"""

from __future__ import annotations

import logging
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from hub.db import APP_ROLE, connect, ensure_app_role, migrations, pending_migrations
from hub.exceptions import AppRoleError, SchemaBehindError
from hub.settings import PROJECT_ROOT, Settings
from lastmile.cli import main
from tests.api_process import api_argv, log_events

pytestmark = pytest.mark.services


@pytest.fixture
def empty(services: Settings) -> Iterator[Settings]:
    """Settings for a new database without any migration; dropped afterwards."""
    name = f"empty_{uuid.uuid4().hex[:10]}"
    with connect(services, dbname="postgres") as admin:
        admin.autocommit = True
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield services.model_copy(update={"pg_database": name})
    with connect(services, dbname="postgres") as admin:
        admin.autocommit = True
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _forget_last_migration(settings: Settings) -> str:
    """Make the database look one migration behind the code; that migration's name."""
    last = migrations()[-1]
    with connect(settings) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = %s", (last.version,))
        conn.commit()
    return f"{last.version:04d}_{last.name}"


def test_db_migrate_applies_everything_once_and_readies_the_api(empty: Settings) -> None:
    first = CliRunner().invoke(main, ["db", "migrate"], env=empty.subprocess_env())
    assert first.exit_code == 0, first.output
    assert str([m.version for m in migrations()]) in first.output
    again = CliRunner().invoke(main, ["db", "migrate"], env=empty.subprocess_env())
    assert again.exit_code == 0, again.output
    assert "none (up to date)" in again.output
    with TestClient(create_app(empty)) as api:
        assert api.get("/healthz").status_code == 200


def test_the_api_refuses_an_unmigrated_database_and_changes_nothing(
    empty: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="hub.db"),
        pytest.raises(SchemaBehindError) as refused,
        TestClient(create_app(empty)),
    ):
        pass
    assert len(refused.value.pending) == len(migrations())
    assert [(r.getMessage(), getattr(r, "code", None)) for r in caplog.records] == [
        ("api_refused", "schema_behind")
    ]
    with connect(empty) as conn:  # no migration was applied on the way
        assert len(pending_migrations(conn)) == len(migrations())


def test_the_api_refuses_a_schema_one_migration_behind(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    missing = _forget_last_migration(settings)
    with (
        caplog.at_level(logging.ERROR, logger="hub.db"),
        pytest.raises(SchemaBehindError) as refused,
        TestClient(create_app(settings)),
    ):
        pass
    assert refused.value.pending == [missing]
    assert refused.value.code == "schema_behind"


def test_lastmile_api_exits_non_zero_with_the_code(settings: Settings, tmp_path: Path) -> None:
    missing = _forget_last_migration(settings)
    done = subprocess.run(
        api_argv("--workers", "2"),
        env=settings.subprocess_env(),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert f"schema_behind: the database lacks 1 migration(s) of this code ({missing})" in (
        done.stderr
    )
    log = tmp_path / "api.log"
    log.write_text(done.stderr)
    refused = [e for e in log_events(log) if e["event"] == "api_refused"]
    assert [e["code"] for e in refused] == ["schema_behind"]


def test_the_api_refuses_when_its_role_cannot_log_in(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with connect(settings) as conn:
        conn.autocommit = True
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(uuid.uuid4().hex)
            )
        )
        try:
            with (
                caplog.at_level(logging.ERROR, logger="hub.db"),
                pytest.raises(AppRoleError),
                TestClient(create_app(settings)),
            ):
                pass
        finally:
            ensure_app_role(conn, settings)  # `lastmile db migrate`'s half that repairs it
    assert [getattr(r, "code", None) for r in caplog.records] == ["app_role_cannot_log_in"]
    with TestClient(create_app(settings)) as api:
        assert api.get("/healthz").status_code == 200
