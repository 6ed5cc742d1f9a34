"""Exceptions of the ``hub.services`` package.

Tree::

    ServicesError           root: something about the private services went wrong
    ├── InstallError        a system package could not be installed, or TimescaleDB built
    ├── SecretsError        the development env file could not be written, or a secret is missing
    ├── PostgresError       the private PostgreSQL cluster could not be set up, started or stopped
    └── MosquittoError      the private Mosquitto broker could not be set up, started or stopped

Every exception carries a message that says what was being done and, where a
command failed, the tail of its output or of the service's log file.
"""


class ServicesError(Exception):
    """Root of the hub.services package's exceptions."""


class InstallError(ServicesError):
    """A missing system package could not be installed, or TimescaleDB not built."""


class SecretsError(ServicesError):
    """A required secret is missing, or the env file could not be written."""


class PostgresError(ServicesError):
    """The private PostgreSQL cluster could not be prepared, started or stopped."""


class MosquittoError(ServicesError):
    """The private Mosquitto broker could not be prepared, started or stopped."""
