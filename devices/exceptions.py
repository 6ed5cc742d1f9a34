"""Exceptions of the ``devices`` package.

Tree::

    DevicesError                root of the devices package
    └── DynsecError             the broker's dynamic-security API did not do what was asked
        ├── DynsecConnectionError   cannot connect as the admin (refused, unreachable, lost)
        ├── DynsecTimeoutError           no response to a command in time
        └── DynsecCommandError      the plugin answered a command with an error
            ├── DynsecAlreadyExistsError     the client or role exists already
            └── DynsecNotFoundError          the client or role does not exist
"""

from __future__ import annotations


class DevicesError(Exception):
    """Root of the devices package's exceptions."""


class DynsecError(DevicesError):
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
