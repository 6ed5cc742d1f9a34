"""The project's private services: PostgreSQL 15 with TimescaleDB, and Mosquitto.

Both run from ``settings.data_dir`` on their own loopback ports, started and
stopped by the project (``lastmile services up|down|status``), never through
the system's service manager or the system's clusters and broker.

Modules: ``install`` (apt packages; ``timescaledb`` builds the extension from
Debian's source when no package has it), ``secrets`` (development secrets),
``postgres`` and ``mosquitto`` (one service each, with ``*_conf`` rendering
their configuration), ``lifecycle`` (both together), ``cli``. Exceptions are
in ``exceptions``, rooted at :class:`ServicesError`.
"""

from hub.services.exceptions import (
    InstallError,
    MosquittoError,
    PostgresError,
    SecretsError,
    ServicesError,
)
from hub.services.install import ensure_installed
from hub.services.lifecycle import down, status, up
from hub.services.models import ServiceStatus
from hub.services.mosquitto import mq_down, mq_kill, mq_reload, mq_save, mq_status, mq_up
from hub.services.postgres import pg_down, pg_status, pg_stop_immediate, pg_up
from hub.services.secrets import ensure_secrets

__all__ = [
    "InstallError",
    "MosquittoError",
    "PostgresError",
    "SecretsError",
    "ServiceStatus",
    "ServicesError",
    "down",
    "ensure_installed",
    "ensure_secrets",
    "mq_down",
    "mq_kill",
    "mq_reload",
    "mq_save",
    "mq_status",
    "mq_up",
    "pg_down",
    "pg_status",
    "pg_stop_immediate",
    "pg_up",
    "status",
    "up",
]
