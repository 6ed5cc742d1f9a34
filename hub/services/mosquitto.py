"""The project's private Mosquitto broker, with the dynamic security plugin.

Layout under ``settings.data_dir``::

    mosquitto/mosquitto.conf   generated on every ``mq_up`` (mosquitto_conf.py)
    mosquitto/dynsec.json      clients, roles and ACLs (the plugin rewrites it)
    mosquitto/data/            persistence (mosquitto.db)
    mosquitto/mosquitto.log    the broker log
    mosquitto/mosquitto.pid    written by the daemon

Started as root, Mosquitto drops to the ``mosquitto`` OS user after reading
its configuration, so everything under ``mosquitto/`` belongs to that user.
The system's broker (/etc/mosquitto, port 1883) is never used.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from pathlib import Path

from hub.services import _system
from hub.services.exceptions import MosquittoError, ServicesError
from hub.services.models import ServiceStatus
from hub.services.mosquitto_conf import (
    MAX_QUEUED_MESSAGES,
    MosquittoPaths,
    mosquitto_paths,
    render_conf,
)
from hub.settings import Settings

logger = logging.getLogger(__name__)

MOSQUITTO_BIN = Path("/usr/sbin/mosquitto")
MOSQUITTO_CTRL = Path("/usr/bin/mosquitto_ctrl")
PLUGIN_NAME = "mosquitto_dynamic_security.so"
SERVER_USER = "mosquitto"
START_TIMEOUT_S = 60.0
#: Stopping saves the persistence database, which takes seconds when it is large.
STOP_TIMEOUT_S = 120.0


def _server_user() -> str | None:
    return SERVER_USER if _system.is_root() else None


def dynsec_plugin_path() -> Path:
    """The dynamic security plugin shipped by the mosquitto package."""
    proc = subprocess.run(["dpkg", "-L", "mosquitto"], capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.endswith("/" + PLUGIN_NAME) and Path(line).exists():
            return Path(line)
    found = sorted(Path("/usr/lib").glob(f"*/{PLUGIN_NAME}"))
    if found:
        return found[0]
    raise MosquittoError(f"{PLUGIN_NAME} not found: run ensure_installed first")


def mq_status(settings: Settings) -> ServiceStatus:
    """Whether the broker of this data folder runs (from its pid file)."""
    paths = mosquitto_paths(settings)
    pid = _system.read_pid(paths.pid)
    running = pid is not None and _system.process_alive(pid, str(paths.conf))
    return ServiceStatus(
        name="mosquitto",
        running=running,
        pid=pid if running else None,
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        data_path=paths.root,
        log_path=paths.log,
    )


def _prepare_dirs(paths: MosquittoPaths, user: str | None) -> None:
    try:
        paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        paths.data.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            _system.ensure_traversable(paths.root.parent, user)
            _system.chown(paths.root, user, recursive=True)
    except (OSError, ServicesError) as exc:
        raise MosquittoError(f"cannot prepare {paths.root}: {exc}") from exc


def _init_dynsec(settings: Settings, paths: MosquittoPaths, user: str | None) -> None:
    """Create dynsec.json with the admin client, before the first start."""
    if paths.dynsec.exists():
        return
    password = settings.mqtt_admin_password.get_secret_value()
    if not password:
        raise MosquittoError("mqtt_admin_password is empty: run ensure_secrets first")
    # The password goes in on stdin (prompted twice), never on the command line.
    _system.run(
        [MOSQUITTO_CTRL, "dynsec", "init", paths.dynsec, settings.mqtt_admin_username],
        error=MosquittoError,
        what=f"mosquitto_ctrl dynsec init {paths.dynsec}",
        input_text=f"{password}\n{password}\n",
    )
    paths.dynsec.chmod(0o600)
    if user is not None:
        _system.chown(paths.dynsec, user)
    logger.info(
        "mq_dynsec_initialised file=%s admin=%s", paths.dynsec, settings.mqtt_admin_username
    )


def _write_conf(
    settings: Settings, paths: MosquittoPaths, user: str | None, max_queued_messages: int
) -> bool:
    wanted = render_conf(
        settings,
        plugin=dynsec_plugin_path(),
        run_as=user,
        max_queued_messages=max_queued_messages,
    )
    if paths.conf.exists() and paths.conf.read_text() == wanted:
        return False
    paths.conf.write_text(wanted)
    paths.conf.chmod(0o600)
    if user is not None:
        _system.chown(paths.conf, user)
    return True


def mq_up(settings: Settings, *, max_queued_messages: int = MAX_QUEUED_MESSAGES) -> ServiceStatus:
    """Prepare and start the broker if it is not running. Idempotent.

    Leave ``max_queued_messages`` alone: another value is for the
    fault-injection control run (tests/faults/test_set.py), which starts a
    broker of its own with a queue too short, to prove the tests see loss.
    """
    if not MOSQUITTO_BIN.exists() or not MOSQUITTO_CTRL.exists():
        raise MosquittoError(f"{MOSQUITTO_BIN} not found: run ensure_installed first")
    user = _server_user()
    paths = mosquitto_paths(settings)
    _prepare_dirs(paths, user)
    _init_dynsec(settings, paths, user)
    changed = _write_conf(settings, paths, user, max_queued_messages)
    status = mq_status(settings)
    if status.running:
        if changed:
            logger.warning("mq_conf_changed_while_running conf=%s restart_needed=true", paths.conf)
        return status
    paths.pid.unlink(missing_ok=True)
    if _system.port_open(settings.mqtt_host, settings.mqtt_port):
        raise MosquittoError(f"port {settings.mqtt_port} is in use by another process")
    _system.run(
        [MOSQUITTO_BIN, "-c", paths.conf, "-d"],
        error=MosquittoError,
        what="mosquitto -d",
    )

    def listening() -> bool:
        return mq_status(settings).running and _system.port_open(
            settings.mqtt_host, settings.mqtt_port
        )

    if not _system.wait_until(listening, START_TIMEOUT_S):
        raise MosquittoError(
            f"mosquitto did not start listening on {settings.mqtt_host}:{settings.mqtt_port}"
            f"\n--- {paths.log}:\n{_system.tail_file(paths.log)}"
        )
    status = mq_status(settings)
    logger.info("mq_started pid=%s port=%d", status.pid, settings.mqtt_port)
    return status


def _signal(settings: Settings, signum: signal.Signals) -> int | None:
    status = mq_status(settings)
    if not status.running or status.pid is None:
        return None
    try:
        os.kill(status.pid, signum)
    except ProcessLookupError:
        return None
    logger.info("mq_signal signal=%s pid=%d", signum.name, status.pid)
    return status.pid


def _wait_gone(settings: Settings, pid: int, timeout: float) -> None:
    """Wait until the broker's process is gone and its port closed.

    A killed process loses its memory (and its ``/proc`` command line) before
    its files: for a moment its listening socket still accepts, and a restart
    right after would take the port for another process's.
    """
    paths = mosquitto_paths(settings)
    if not _system.wait_until(lambda: not _system.process_alive(pid, str(paths.conf)), timeout):
        raise MosquittoError(f"mosquitto pid {pid} still running after {timeout:.0f}s")
    host, port = settings.mqtt_host, settings.mqtt_port
    if not _system.wait_until(lambda: not _system.port_open(host, port), timeout):
        raise MosquittoError(f"port {port} still open {timeout:.0f}s after mosquitto pid {pid}")


def mq_down(settings: Settings) -> ServiceStatus:
    """Stop the broker (SIGTERM: it saves its persistence database) and wait."""
    pid = _signal(settings, signal.SIGTERM)
    if pid is not None:
        _wait_gone(settings, pid, STOP_TIMEOUT_S)
    return mq_status(settings)


def mq_reload(settings: Settings) -> ServiceStatus:
    """Make the broker re-read what it can of its configuration (SIGHUP)."""
    if _signal(settings, signal.SIGHUP) is None:
        raise MosquittoError("mosquitto is not running")
    return mq_status(settings)


def mq_save(settings: Settings, *, timeout: float = STOP_TIMEOUT_S) -> float:
    """Make the broker write its persistence database now (SIGUSR1) and wait.

    Returns the database file's new modification time. Mosquitto otherwise
    saves every ``autosave_interval`` seconds and on a graceful stop; what it
    accepted since its last save is lost if it crashes (docs/integration.md, section 7).
    """
    db = mosquitto_paths(settings).data / "mosquitto.db"

    def mtime() -> float:
        try:
            return db.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    before = mtime()
    if _signal(settings, signal.SIGUSR1) is None:
        raise MosquittoError("mosquitto is not running")
    if not _system.wait_until(lambda: mtime() > before, timeout):
        raise MosquittoError(f"mosquitto did not save {db} within {timeout:.0f}s")
    return mtime()


def mq_kill(settings: Settings) -> ServiceStatus:
    """Kill the broker like a crash (SIGKILL, nothing saved); for fault-injection tests."""
    pid = _signal(settings, signal.SIGKILL)
    if pid is not None:
        _wait_gone(settings, pid, 10.0)
    return mq_status(settings)
