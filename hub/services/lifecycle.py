"""Bring the private services up and down together.

``up`` is what ``lastmile services up``, the test suites and the other
commands call: install what is missing, make sure the secrets exist, start
PostgreSQL and Mosquitto if they are stopped, and make sure the hub's MQTT
user exists (and with ``replica``, start the hot standby). Every step is
idempotent; a lock file serialises concurrent callers (two test sessions
starting at once) on the same data folder.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from hub.services.exceptions import DynsecError, MosquittoError
from hub.services.hub_user import ensure_hub_client
from hub.services.install import ensure_installed
from hub.services.models import ServiceStatus
from hub.services.mosquitto import mq_down, mq_status, mq_up
from hub.services.postgres import pg_down, pg_status, pg_up
from hub.services.replica import replica_dir, replica_down, replica_status, replica_up
from hub.services.secrets import ensure_secrets
from hub.settings import Settings

logger = logging.getLogger(__name__)


@contextmanager
def services_lock(settings: Settings) -> Iterator[None]:
    """Hold the data folder's services lock (blocks until it is free)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / ".services.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def up(settings: Settings, *, replica: bool = False) -> Settings:
    """Install, configure and start what is missing; return ``settings`` with its secrets.

    With ``replica``, also the private hot standby (:mod:`hub.services.replica`).
    """
    with services_lock(settings):
        ensure_installed(settings)
        settings = ensure_secrets(settings)
        pg = pg_up(settings)
        if replica:
            replica_up(settings)
        mq = mq_up(settings)
        try:
            ensure_hub_client(settings)
        except DynsecError as exc:
            raise MosquittoError(f"cannot set up the hub's MQTT user: {exc}") from exc
    logger.info(
        "services_up data_dir=%s pg_pid=%s pg_port=%d mq_pid=%s mq_port=%d",
        settings.data_dir,
        pg.pid,
        settings.pg_port,
        mq.pid,
        settings.mqtt_port,
    )
    return settings


def down(settings: Settings) -> list[ServiceStatus]:
    """Stop the broker, the replica (if there is one), then the database; their statuses."""
    with services_lock(settings):
        mq = mq_down(settings)
        replica = replica_down(settings) if replica_dir(settings).exists() else None
        pg = pg_down(settings)
    logger.info("services_down data_dir=%s", settings.data_dir)
    return [pg, mq] + ([replica] if replica is not None else [])


def status(settings: Settings) -> list[ServiceStatus]:
    """The state of each private service (the replica's when there is one)."""
    found = [pg_status(settings), mq_status(settings)]
    if replica_dir(settings).exists():
        found.append(replica_status(settings))
    return found
