"""Build TimescaleDB (Apache-licensed edition) for PostgreSQL 15 from Debian's source.

Debian 12 does not package TimescaleDB; Debian 13 (trixie) does, as a source
package repacked to the Apache-2.0 code only (``+dfsg``). The build fetches
that source with apt itself, so the download is checked against the signed
archive index, using a private apt configuration that leaves the system's
sources and lists untouched::

    <data_dir>/build/apt/sources.list.d/trixie-src.list   the only source
    <data_dir>/build/apt/lists/                           its index files
    <data_dir>/build/apt/cache/                           apt's caches
    <data_dir>/build/download/                            .dsc and tarballs
    <data_dir>/build/src/timescaledb-<version>/           the unpacked tree

and installs into the PostgreSQL 15 directories (``make install``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import time
from pathlib import Path

from hub.services import _system
from hub.services.exceptions import InstallError, ServicesError
from hub.settings import Settings

logger = logging.getLogger(__name__)

PG_CONFIG = Path("/usr/lib/postgresql/15/bin/pg_config")
SOURCE_MIRROR = "http://deb.debian.org/debian"
SOURCE_SUITE = "trixie"
ARCHIVE_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
APT_SANDBOX_USER = "_apt"

BOOTSTRAP_FLAGS: tuple[str, ...] = (
    "-DAPACHE_ONLY=1",
    "-DREGRESS_CHECKS=OFF",
    "-DTAP_CHECKS=OFF",
    "-DWARNINGS_AS_ERRORS=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
    # Telemetry stays compiled in (so ``timescaledb.telemetry_level`` is a
    # known setting) but defaults to off; postgresql.conf sets it off too.
    "-DSEND_TELEMETRY_DEFAULT=OFF",
    f"-DPG_CONFIG={PG_CONFIG}",
)


def _pg_config(flag: str) -> Path:
    proc = _system.run([PG_CONFIG, flag], error=InstallError, what=f"pg_config {flag}")
    return Path(proc.stdout.strip())


def timescaledb_installed() -> bool:
    """Whether PostgreSQL 15 has the TimescaleDB extension (control file and loader)."""
    if not PG_CONFIG.exists():
        return False
    control = _pg_config("--sharedir") / "extension" / "timescaledb.control"
    loader = _pg_config("--pkglibdir") / "timescaledb.so"
    return control.exists() and loader.exists()


def _private_apt_options(apt_dir: Path) -> list[str]:
    return [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={apt_dir / 'sources.list.d'}",
        "-o",
        f"Dir::State::Lists={apt_dir / 'lists'}",
        "-o",
        f"Dir::Cache={apt_dir / 'cache'}",
    ]


def _prepare_private_apt(apt_dir: Path, download_dir: Path) -> list[str]:
    parts = apt_dir / "sources.list.d"
    for directory in (
        parts,
        apt_dir / "lists" / "partial",
        apt_dir / "cache" / "archives" / "partial",
    ):
        directory.mkdir(parents=True, exist_ok=True)
    download_dir.mkdir(parents=True, exist_ok=True)
    keyring = f"[signed-by={ARCHIVE_KEYRING}] " if ARCHIVE_KEYRING.exists() else ""
    (parts / f"{SOURCE_SUITE}-src.list").write_text(
        f"deb-src {keyring}{SOURCE_MIRROR} {SOURCE_SUITE} main\n"
    )
    # apt downloads as the unprivileged _apt user when it can write the target.
    if _system.is_root():
        try:
            for directory in (apt_dir / "lists" / "partial", download_dir):
                _system.chown(directory, APT_SANDBOX_USER, recursive=True)
        except (ServicesError, OSError):
            # Without _apt, apt downloads as root and says so in a warning.
            logger.warning("apt_sandbox_user_missing user=%s", APT_SANDBOX_USER)
    return _private_apt_options(apt_dir)


def _download_source(build_root: Path) -> Path:
    """Fetch Debian's timescaledb source package; return its orig tarball."""
    download_dir = build_root / "download"
    cached = sorted(download_dir.glob("timescaledb_*.orig.tar.*"))
    if cached:
        logger.info("timescaledb_source_cached tarball=%s", cached[-1].name)
        return cached[-1]
    options = _prepare_private_apt(build_root / "apt", download_dir)
    started = time.monotonic()
    _system.run(
        ["apt-get", *options, "update"],
        error=InstallError,
        what=f"apt-get update (private, deb-src {SOURCE_SUITE})",
    )
    _system.run(
        ["apt-get", *options, "source", "--download-only", "timescaledb"],
        error=InstallError,
        what="apt-get source --download-only timescaledb",
        cwd=download_dir,
    )
    tarballs = sorted(download_dir.glob("timescaledb_*.orig.tar.*"))
    if not tarballs:
        raise InstallError(f"apt-get source left no timescaledb orig tarball in {download_dir}")
    logger.info(
        "timescaledb_source_downloaded tarball=%s seconds=%.1f",
        tarballs[-1].name,
        time.monotonic() - started,
    )
    return tarballs[-1]


def _unpack(tarball: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(dest, filter="data")
    trees = [path for path in dest.iterdir() if (path / "bootstrap").exists()]
    if len(trees) != 1:
        raise InstallError(f"unexpected layout of {tarball.name}: no single source tree")
    return trees[0]


def build_timescaledb(settings: Settings) -> Path:
    """Download, build and install TimescaleDB for PostgreSQL 15; return the source tree.

    Needs root (it installs into PostgreSQL's directories) and the packages in
    ``install.BUILD_PACKAGES``. Takes about half a minute on two cores.
    """
    if not _system.is_root():
        raise InstallError("building TimescaleDB installs into PostgreSQL's directories (root)")
    build_root = settings.data_dir / "build"
    build_root.mkdir(parents=True, exist_ok=True)
    tarball = _download_source(build_root)
    tree = _unpack(tarball, build_root / "src")
    logger.info("timescaledb_build_start tree=%s", tree)
    started = time.monotonic()
    _system.run(
        ["./bootstrap", *BOOTSTRAP_FLAGS],
        error=InstallError,
        what="timescaledb ./bootstrap",
        env={"BUILD_FORCE_REMOVE": "true"},
        cwd=tree,
    )
    _system.run(
        ["make", "-C", "build", f"-j{os.cpu_count() or 2}", "install"],
        error=InstallError,
        what="timescaledb make install",
        cwd=tree,
        timeout=1800,
    )
    logger.info("timescaledb_built seconds=%.1f tree=%s", time.monotonic() - started, tree)
    return tree
