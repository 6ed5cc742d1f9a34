"""Exceptions of the ``simulators`` package.

Tree::

    SimulatorError
    ├── ProvisioningError        the hub's admin API refused or failed a registration
    ├── MqttError                talking to the broker went wrong
    │   ├── ConnectRefusedError  the broker answered CONNECT with a failure code
    │   └── ProtocolError        the broker sent what a publisher cannot handle,
    │                            or closed the connection
    └── PublisherError           a publisher process failed or never reported
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of the simulators package's exceptions."""


class ProvisioningError(SimulatorError):
    """A registration through the hub's HTTP admin API did not succeed."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MqttError(SimulatorError):
    """Talking to the MQTT broker went wrong."""


class ConnectRefusedError(MqttError):
    """CONNACK carried a failure code (bad credentials, not authorised, ...)."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


class ProtocolError(MqttError):
    """Unexpected or malformed bytes from the broker, or the connection closed."""


class PublisherError(SimulatorError):
    """A publisher process failed or never reported its stats."""
