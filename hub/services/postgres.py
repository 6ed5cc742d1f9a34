"""The project's private PostgreSQL 15 cluster, with TimescaleDB preloaded.

Layout under ``settings.data_dir``::

    pg/                 the cluster (initdb), owned by the server's OS user
    pg/lastmile.conf    our settings, rewritten on every ``pg_up``; included
                        from postgresql.conf (see ``postgres_conf.py``)
    run/                the Unix socket directory
    log/postgresql.log  the server log

PostgreSQL refuses to run as root, so when we are root the server runs as the
``postgres`` OS user that the Debian package creates. Only the binaries of the
package are used (``/usr/lib/postgresql/15/bin``): the system's clusters
under /etc/postgresql are never read, started or stopped.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from hub.services import _system
from hub.services.exceptions import PostgresError, ServicesError
from hub.services.models import ServiceStatus
from hub.services.postgres_conf import INCLUDE_LINE, render_conf
from hub.settings import Settings

logger = logging.getLogger(__name__)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"
START_TIMEOUT_S = 120


def pg_dir(settings: Settings) -> Path:
    return settings.data_dir / "pg"


def pg_log_file(settings: Settings) -> Path:
    return settings.data_dir / "log" / "postgresql.log"


def _server_user() -> str | None:
    """The OS user to run the server as: ``postgres`` when we are root, else ourselves."""
    return SERVER_USER if _system.is_root() else None


def _own(path: Path, user: str | None, *, recursive: bool = False) -> None:
    if user is not None:
        _system.chown(path, user, recursive=recursive)


def pg_status(settings: Settings) -> ServiceStatus:
    """Whether the cluster's postmaster runs (from ``postmaster.pid``), with its pid."""
    pid = _system.read_pid(pg_dir(settings) / "postmaster.pid")
    running = pid is not None and _system.process_alive(pid, str(pg_dir(settings)))
    return ServiceStatus(
        name="postgresql",
        running=running,
        pid=pid if running else None,
        host=settings.pg_host,
        port=settings.pg_port,
        data_path=pg_dir(settings),
        log_path=pg_log_file(settings),
    )


def _prepare_dirs(settings: Settings, user: str | None) -> None:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        if user is not None:
            _system.ensure_traversable(data_dir, user)
        cluster = pg_dir(settings)
        cluster.mkdir(mode=0o700, exist_ok=True)
        _own(cluster, user)
        sockets = settings.pg_socket_dir
        sockets.mkdir(mode=0o755, exist_ok=True)
        _own(sockets, user)
        log_file = pg_log_file(settings)
        log_file.parent.mkdir(mode=0o755, exist_ok=True)
        log_file.touch(mode=0o640, exist_ok=True)
        _own(log_file, user)
    except (OSError, ServicesError) as exc:
        raise PostgresError(f"cannot prepare {data_dir} for PostgreSQL: {exc}") from exc


def _initdb(settings: Settings, user: str | None) -> None:
    cluster = pg_dir(settings)
    if (cluster / "PG_VERSION").exists():
        return
    if any(cluster.iterdir()):
        raise PostgresError(f"{cluster} is not empty and holds no cluster; move it away")
    password = settings.pg_password.get_secret_value()
    if not password:
        raise PostgresError("pg_password is empty: run ensure_secrets first")
    fd, pwfile = tempfile.mkstemp(dir=settings.pg_socket_dir, prefix=".pwfile.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        _own(Path(pwfile), user)
        _system.run(
            [
                PG_BIN / "initdb",
                "-D",
                cluster,
                "-U",
                settings.pg_user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--data-checksums",
            ],
            error=PostgresError,
            what=f"initdb {cluster}",
            user=user,
        )
    finally:
        Path(pwfile).unlink(missing_ok=True)
    logger.info("pg_initdb cluster=%s superuser=%s", cluster, settings.pg_user)


def _write_conf(settings: Settings, user: str | None) -> bool:
    """Write lastmile.conf and include it; return whether it changed."""
    cluster = pg_dir(settings)
    main_conf = cluster / "postgresql.conf"
    text = main_conf.read_text()
    if INCLUDE_LINE not in text.splitlines():
        main_conf.write_text(text.rstrip("\n") + "\n\n" + INCLUDE_LINE + "\n")
    conf = cluster / "lastmile.conf"
    wanted = render_conf(settings)
    if conf.exists() and conf.read_text() == wanted:
        return False
    conf.write_text(wanted)
    conf.chmod(0o600)
    _own(conf, user)
    return True


def _pg_ctl(
    settings: Settings,
    *args: str | Path,
    what: str,
    timeout: float = 180,
    cluster: Path | None = None,
) -> None:
    """``pg_ctl`` on the hub's cluster, or on ``cluster`` (the read replica's)."""
    _system.run(
        [PG_BIN / "pg_ctl", "-D", cluster or pg_dir(settings), *args],
        error=PostgresError,
        what=what,
        user=_server_user(),
        timeout=timeout,
    )


def _ensure_database(settings: Settings) -> None:
    """Create the hub's database if missing and the timescaledb extension in it."""
    try:
        with psycopg.connect(settings.conninfo_for("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (settings.pg_database,)
            ).fetchone()
            if exists is None:
                conn.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.pg_database))
                )
                logger.info("pg_database_created database=%s", settings.pg_database)
        with psycopg.connect(settings.conninfo, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            _unschedule_unlicensed_jobs(conn)
    except psycopg.Error as exc:
        raise PostgresError(f"cannot prepare database {settings.pg_database}: {exc}") from exc


def _unschedule_unlicensed_jobs(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Unschedule TimescaleDB's own jobs that the Apache edition cannot run.

    Job 3 (job history retention) is a custom job, and running custom jobs
    needs the Timescale License: under ``apache`` it fails and logs an ERROR
    every hour. ``alter_job`` is unavailable there too, hence the catalog update.
    """
    row = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
    if row is None or row[0] != "apache":
        return
    conn.execute(
        "UPDATE _timescaledb_config.bgw_job SET scheduled = false"
        " WHERE id = 3 AND proc_name = 'policy_job_stat_history_retention' AND scheduled"
    )


def pg_up(settings: Settings) -> ServiceStatus:
    """Create the cluster if needed, start it if stopped, ensure the database.

    Idempotent: a running cluster is left running (a changed lastmile.conf is
    reloaded; settings that need a restart say so in the log).
    """
    if not (PG_BIN / "postgres").exists():
        raise PostgresError(f"{PG_BIN}/postgres not found: run ensure_installed first")
    user = _server_user()
    _prepare_dirs(settings, user)
    _initdb(settings, user)
    changed = _write_conf(settings, user)
    status = pg_status(settings)
    if status.running:
        if changed:
            _pg_ctl(settings, "reload", what="pg_ctl reload")
            logger.warning("pg_conf_changed_while_running reloaded=true restart_may_be_needed=true")
    else:
        pg_start(
            settings,
            cluster=pg_dir(settings),
            port=settings.pg_port,
            log_file=pg_log_file(settings),
        )
        status = pg_status(settings)
        logger.info("pg_started pid=%s port=%d", status.pid, settings.pg_port)
    _ensure_database(settings)
    return status


def pg_start(settings: Settings, *, cluster: Path, port: int, log_file: Path) -> None:
    """Start ``cluster`` on ``port`` and wait until it takes connections (its log's tail if not)."""
    if _system.port_open(settings.pg_host, port):
        raise PostgresError(f"port {port} is in use by another process")
    try:
        _pg_ctl(
            settings,
            "-l",
            log_file,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
            what=f"pg_ctl start {cluster}",
            timeout=START_TIMEOUT_S + 30,
            cluster=cluster,
        )
    except PostgresError as exc:
        raise PostgresError(f"{exc}\n--- {log_file}:\n{_system.tail_file(log_file)}") from exc


def pg_down(settings: Settings) -> ServiceStatus:
    """Stop the cluster (fast mode: roll back open transactions, checkpoint, exit)."""
    if pg_status(settings).running:
        _pg_ctl(settings, "-m", "fast", "-w", "stop", what="pg_ctl stop -m fast")
        logger.info("pg_stopped mode=fast")
    return pg_status(settings)


def pg_stop_immediate(settings: Settings) -> ServiceStatus:
    """Stop the cluster like a crash (no checkpoint); for fault-injection tests."""
    if pg_status(settings).running:
        _pg_ctl(settings, "-m", "immediate", "-w", "stop", what="pg_ctl stop -m immediate")
        logger.info("pg_stopped mode=immediate")
    return pg_status(settings)
