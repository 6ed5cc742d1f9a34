"""Types of the services package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What ``lastmile services status`` shows for one private service."""

    name: str
    running: bool
    pid: int | None
    host: str
    port: int
    data_path: Path
    log_path: Path

    def describe(self) -> str:
        state = f"running pid={self.pid}" if self.running else "stopped"
        return (
            f"{self.name}: {state} port={self.host}:{self.port} "
            f"data={self.data_path} log={self.log_path}"
        )
