"""Exceptions of the ``hub.services`` package.

Tree::

    ServicesError           root: something about the private services went wrong
    ├── InstallError        a system package could not be installed, or TimescaleDB built
    ├── SecretsError        the development env file could not be written, or a secret is missing
    ├── PostgresError       the private PostgreSQL cluster could not be set up, started or stopped
    ├── MosquittoError      the private Mosquitto broker could not be set up, started or stopped
    └── DynsecError         the broker's dynamic-security API did not do what was asked
        ├── DynsecConnectionError   cannot connect as the admin (refused, unreachable, lost)
        ├── DynsecTimeoutError      no response to a command in time
        └── DynsecCommandError      the plugin answered a command with an error
            ├── DynsecAlreadyExistsError  the client or role exists already
            └── DynsecNotFoundError       the client or role does not exist

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


class DynsecError(ServicesError):
    """A dynamic-security operation on the broker failed."""


class DynsecConnectionError(DynsecError):
    """The admin connection to the broker was refused, unreachable or lost."""


class DynsecTimeoutError(DynsecError):
    """The broker did not answer a dynamic-security command in time."""


class DynsecCommandError(DynsecError):
    """The dynamic-security plugin answered a command with an error."""

    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"{command}: {error}")
        self.command = command
        self.error = error


class DynsecAlreadyExistsError(DynsecCommandError):
    """The client or role to create exists already."""


class DynsecNotFoundError(DynsecCommandError):
    """The client or role named in the command does not exist."""
