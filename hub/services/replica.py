"""A private hot standby of the private cluster: the API's read replica (docs/scaling.md).

``lastmile services up --replica`` makes it once with ``pg_basebackup`` from
the running primary and starts it; ``services down`` stops it with the rest.
It streams the primary's WAL and answers read-only queries on its own
loopback port (``settings.replica_port``: pg_port + 1 unless set).

Layout under ``settings.data_dir``::

    pg-replica/                  the standby's cluster (a base backup of pg/)
    pg-replica/standby.signal    what makes it a standby
    pg-replica/lastmile.conf     the primary's settings on the replica's port, then
                                 primary_conninfo and primary_slot_name
    log/postgresql-replica.log   its server log

On the primary: the role ``lastmile_replicator`` (REPLICATION, its password
derived from the owner's like the API role's: no secret to keep), a pg_hba
line letting it stream from the server's own addresses, and the physical
slot ``lastmile_replica``, which keeps the WAL the standby has not received
(at most ``max_slot_wal_keep_size``; a standby left behind further has lost
its slot and is made again by the next ``up --replica``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from hub.db import role_password
from hub.services import _system
from hub.services.exceptions import PostgresError
from hub.services.models import ServiceStatus
from hub.services.postgres import PG_BIN, _own, _pg_ctl, _server_user, pg_start, pg_status
from hub.services.postgres_conf import quote, render_conf
from hub.settings import Settings

logger = logging.getLogger(__name__)

REPLICATOR = "lastmile_replicator"
SLOT = "lastmile_replica"
_HBA_LINE = f"host replication {REPLICATOR} samehost scram-sha-256"
STREAMING_TIMEOUT_S = 60.0


def replica_dir(settings: Settings) -> Path:
    return settings.data_dir / "pg-replica"


def replica_log_file(settings: Settings) -> Path:
    return settings.data_dir / "log" / "postgresql-replica.log"


def replica_read_url(settings: Settings) -> str:
    """What ``LASTMILE_DATABASE_READ_URL`` is for the private replica."""
    return make_conninfo("", host=settings.pg_host, port=settings.replica_port)


def replica_status(settings: Settings) -> ServiceStatus:
    cluster = replica_dir(settings)
    pid = _system.read_pid(cluster / "postmaster.pid")
    running = pid is not None and _system.process_alive(pid, str(cluster))
    return ServiceStatus(
        name="postgresql-replica",
        running=running,
        pid=pid if running else None,
        host=settings.pg_host,
        port=settings.replica_port,
        data_path=cluster,
        log_path=replica_log_file(settings),
    )


def replica_up(settings: Settings) -> ServiceStatus:
    """Make the standby if there is none (or its slot was lost), start it, wait until it streams."""
    if not pg_status(settings).running:
        raise PostgresError("the primary is not running: start it first (lastmile services up)")
    user = _server_user()
    _ensure_replicator(settings)
    cluster = replica_dir(settings)
    if (cluster / "PG_VERSION").exists() and not _slot_usable(settings):
        logger.warning("pg_replica_slot_lost rebuilding=true cluster=%s", cluster)
        replica_down(settings)
        shutil.rmtree(cluster)
    if not (cluster / "PG_VERSION").exists():
        _base_backup(settings, user)
    _write_standby_conf(settings, user)
    status = replica_status(settings)
    if not status.running:
        log_file = replica_log_file(settings)
        log_file.touch(mode=0o640, exist_ok=True)
        _own(log_file, user)
        pg_start(settings, cluster=cluster, port=settings.replica_port, log_file=log_file)
        status = replica_status(settings)
        logger.info("pg_replica_started pid=%s port=%d", status.pid, settings.replica_port)
    if not _system.wait_until(lambda: _streaming(settings), STREAMING_TIMEOUT_S, interval=0.2):
        log_file = replica_log_file(settings)
        msg = f"the replica does not stream from the primary\n--- {log_file}:\n"
        raise PostgresError(msg + _system.tail_file(log_file))
    return status


def replica_down(settings: Settings) -> ServiceStatus:
    """Stop the standby (fast mode); its slot keeps the WAL it will need."""
    if replica_status(settings).running:
        _pg_ctl(
            settings,
            "-m",
            "fast",
            "-w",
            "stop",
            what="pg_ctl stop -m fast (replica)",
            cluster=replica_dir(settings),
        )
        logger.info("pg_replica_stopped mode=fast")
    return replica_status(settings)


def replica_remove(settings: Settings) -> None:
    """Stop the standby, delete its cluster and drop its slot (the WAL it kept is freed)."""
    replica_down(settings)
    shutil.rmtree(replica_dir(settings), ignore_errors=True)
    if pg_status(settings).running:
        with _primary(settings) as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                " WHERE slot_name = %s AND NOT active",
                (SLOT,),
            )
    logger.info("pg_replica_removed")


def _primary(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(settings.conninfo_for("postgres"), autocommit=True)


def _ensure_replicator(settings: Settings) -> None:
    """The replication role with its derived password, and its pg_hba line (reloaded if added)."""
    password = sql.Literal(role_password(settings, REPLICATOR))
    try:
        with _primary(settings) as conn:
            found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (REPLICATOR,))
            verb = sql.SQL("ALTER") if found.fetchone() else sql.SQL("CREATE")
            conn.execute(
                sql.SQL("{} ROLE {} WITH REPLICATION LOGIN PASSWORD {}").format(
                    verb, sql.Identifier(REPLICATOR), password
                )
            )
            hba = conn.execute("SELECT current_setting('hba_file')").fetchone()
            assert hba is not None
            hba_file = Path(str(hba[0]))
            if _HBA_LINE not in hba_file.read_text().splitlines():
                with hba_file.open("a") as handle:
                    handle.write(f"# lastmile services up --replica\n{_HBA_LINE}\n")
                conn.execute("SELECT pg_reload_conf()")
                logger.info("pg_hba_replication_added role=%s", REPLICATOR)
    except (psycopg.Error, OSError) as exc:
        raise PostgresError(f"cannot set up the replication role: {exc}") from exc


def _slot_usable(settings: Settings) -> bool:
    """Whether the primary has the standby's slot and still keeps the WAL it needs."""
    with _primary(settings) as conn:
        row = conn.execute(
            "SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
        ).fetchone()
    return row is not None and row[0] != "lost"


def _passfile(settings: Settings, user: str | None) -> Path:
    """A 0600 libpq password file for the replication role (pg_basebackup reads it)."""
    fd, name = tempfile.mkstemp(dir=settings.pg_socket_dir, prefix=".pgpass.")
    path = Path(name)
    with open(fd, "w") as handle:
        handle.write(f"*:*:*:{REPLICATOR}:{role_password(settings, REPLICATOR)}\n")
    _own(path, user)
    return path


def _base_backup(settings: Settings, user: str | None) -> None:
    cluster = replica_dir(settings)
    cluster.mkdir(mode=0o700, exist_ok=True)
    _own(cluster, user)
    with _primary(settings) as conn:  # a slot left by a standby that is gone
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            (SLOT,),
        )
    passfile = _passfile(settings, user)
    try:
        _system.run(
            [
                PG_BIN / "pg_basebackup",
                "--pgdata",
                cluster,
                "--host",
                settings.pg_host,
                "--port",
                str(settings.pg_port),
                "--username",
                REPLICATOR,
                "--no-password",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--create-slot",
                "--slot",
                SLOT,
            ],
            error=PostgresError,
            what=f"pg_basebackup into {cluster}",
            user=user,
            env={"PGPASSFILE": str(passfile)},
            timeout=1800,
        )
    except PostgresError:
        shutil.rmtree(cluster, ignore_errors=True)
        raise
    finally:
        passfile.unlink(missing_ok=True)
    (cluster / "standby.signal").touch()
    _own(cluster / "standby.signal", user)
    logger.info("pg_replica_base_backup cluster=%s slot=%s", cluster, SLOT)


def _write_standby_conf(settings: Settings, user: str | None) -> None:
    """The primary's settings on the replica's port, then how it streams from the primary."""
    replica = settings.model_copy(update={"pg_port": settings.replica_port})
    primary = make_conninfo(
        "",
        host=settings.pg_host,
        port=settings.pg_port,
        user=REPLICATOR,
        password=role_password(settings, REPLICATOR),
        application_name=SLOT,
    )
    conf = replica_dir(settings) / "lastmile.conf"
    conf.write_text(
        render_conf(replica)
        + f"""
# -- The hot standby (hub/services/replica.py): streams from the private primary.
primary_conninfo = {quote(primary)}
primary_slot_name = {quote(SLOT)}
hot_standby = on
# The primary keeps the rows a long read here still needs, rather than the
# standby cancelling the read when their removal is replayed.
hot_standby_feedback = on
"""
    )
    conf.chmod(0o600)  # it holds the replication role's password
    _own(conf, user)


def _streaming(settings: Settings) -> bool:
    try:
        with psycopg.connect(
            make_conninfo(settings.conninfo_for("postgres"), port=settings.replica_port),
            autocommit=True,
        ) as conn:
            row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
    except psycopg.OperationalError:
        return False
    return row is not None and row[0] == "streaming"
