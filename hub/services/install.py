"""Install what the private services need, on Debian or Ubuntu.

``ensure_installed`` asks dpkg what is there and installs only what is missing,
so a second run runs no ``apt-get`` at all. It never enables, starts or
configures a system service: the packages are used only for their binaries
(the project runs its own cluster and broker, see ``postgres.py`` and
``mosquitto.py``).

TimescaleDB comes from, in order of preference: what the PostgreSQL 15
installation already has; a distribution package; or a build of the
Apache-licensed edition from Debian's own source package (``timescaledb.py``).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence

from hub.services import _system
from hub.services.exceptions import InstallError
from hub.services.timescaledb import build_timescaledb, timescaledb_installed
from hub.settings import Settings

logger = logging.getLogger(__name__)

#: Packages whose binaries the services run.
SERVICE_PACKAGES: tuple[str, ...] = ("postgresql-15", "mosquitto", "mosquitto-clients")

#: Packages needed only when TimescaleDB is built from source.
BUILD_PACKAGES: tuple[str, ...] = (
    "postgresql-server-dev-15",
    "cmake",
    "gcc",
    "make",
    "libssl-dev",
    "libkrb5-dev",
    "dpkg-dev",
    "libc6-dev",
    "xz-utils",
    "debian-archive-keyring",
)

#: Packages the test suite drives, installed by ``lastmile services up --test-tools``
#: (``scripts/test``): the dashboard's end-to-end test runs Debian's headless
#: Chromium through Playwright (never a browser build of Playwright's own).
TEST_PACKAGES: tuple[str, ...] = ("chromium", "fonts-liberation", "fonts-dejavu-core")

#: Names under which distributions package TimescaleDB for PostgreSQL 15.
TIMESCALEDB_PACKAGES: tuple[str, ...] = ("postgresql-15-timescaledb", "timescaledb-2-postgresql-15")

_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
# Wait for another apt/dpkg run (an engineer's, a CI step's) instead of failing.
_APT_LOCK = ("-o", "DPkg::Lock::Timeout=600")


def missing_packages(packages: Iterable[str]) -> list[str]:
    """The packages among ``packages`` that dpkg does not report as installed."""
    wanted = list(packages)
    if not wanted:
        return []
    if shutil.which("dpkg-query") is None:
        raise InstallError("dpkg-query not found: only Debian and Ubuntu are supported")
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\n", *wanted],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    installed = {
        name
        for name, _, status in (line.partition("\t") for line in proc.stdout.splitlines())
        if status.strip() == "installed"
    }
    return [name for name in wanted if name not in installed]


class _Apt:
    """apt-get, with ``apt-get update`` run at most once and only before an install."""

    def __init__(self) -> None:
        self.updated = False
        self.actions: list[str] = []

    def _require_root(self, what: str) -> None:
        if not _system.is_root():
            raise InstallError(f"{what} needs root; run `lastmile services up` as root once")
        if shutil.which("apt-get") is None:
            raise InstallError(f"{what} needs apt-get: only Debian and Ubuntu are supported")

    def update(self) -> None:
        if self.updated:
            return
        self._require_root("apt-get update")
        started = time.monotonic()
        _system.run(
            ["apt-get", *_APT_LOCK, "update"],
            error=InstallError,
            what="apt-get update",
            env=_APT_ENV,
        )
        self.updated = True
        logger.info("apt_update seconds=%.1f", time.monotonic() - started)
        self.actions.append("apt-get update")

    def install(self, packages: Sequence[str]) -> None:
        if not packages:
            return
        self._require_root(f"installing {' '.join(packages)}")
        self.update()
        logger.info("apt_install packages=%s", ",".join(packages))
        started = time.monotonic()
        _system.run(
            ["apt-get", *_APT_LOCK, "install", "-y", "--no-install-recommends", *packages],
            error=InstallError,
            what=f"apt-get install {' '.join(packages)}",
            env=_APT_ENV,
            timeout=1800,
        )
        logger.info(
            "apt_installed packages=%s seconds=%.1f",
            ",".join(packages),
            time.monotonic() - started,
        )
        self.actions.append(f"apt-get install {' '.join(packages)}")

    def has_candidate(self, package: str) -> bool:
        """Whether apt could install ``package`` (its policy shows a candidate)."""
        proc = subprocess.run(
            ["apt-cache", "policy", package],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
        )
        for line in proc.stdout.splitlines():
            key, _, value = line.strip().partition(":")
            if key == "Candidate":
                return value.strip() not in {"", "(none)"}
        return False


def ensure_installed(settings: Settings) -> list[str]:
    """Install whatever the private services are missing; return what was done.

    An empty list means everything was there already and nothing ran.
    """
    apt = _Apt()
    apt.install(missing_packages(SERVICE_PACKAGES))
    if timescaledb_installed():
        logger.info("timescaledb_present")
        return apt.actions
    for package in TIMESCALEDB_PACKAGES:
        if apt.has_candidate(package):
            logger.info("timescaledb_from_package package=%s", package)
            apt.install([package])
            break
    else:
        apt.install(missing_packages(BUILD_PACKAGES))
        build_timescaledb(settings)
        apt.actions.append("built timescaledb from Debian's source package")
    if not timescaledb_installed():
        raise InstallError("TimescaleDB is still not installed for PostgreSQL 15")
    return apt.actions


def ensure_test_packages() -> list[str]:
    """Install what only the tests need (:data:`TEST_PACKAGES`); return what was done."""
    apt = _Apt()
    apt.install(missing_packages(TEST_PACKAGES))
    return apt.actions
