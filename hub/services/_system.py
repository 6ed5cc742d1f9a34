"""Small helpers over the operating system shared by the service modules.

Commands are run without a shell, with their output captured; a failure
becomes the caller's exception type with the tail of the output. Extra
environment variables are passed with ``env(1)`` so that nothing here reads or
copies the process environment.
"""

from __future__ import annotations

import logging
import os
import pwd
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hub.services.exceptions import ServicesError

logger = logging.getLogger(__name__)

RUNUSER = "/usr/sbin/runuser"


def is_root() -> bool:
    return os.geteuid() == 0


def run(
    cmd: Sequence[str | Path],
    *,
    error: type[ServicesError],
    what: str,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input_text: str | None = None,
    timeout: float = 600.0,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``, as ``user`` when we are root; raise ``error`` if it fails.

    Secrets are never passed in ``cmd`` (use ``input_text`` or a 0600 file):
    the command line is logged and visible to every local user.
    """
    argv = [str(part) for part in cmd]
    if env:
        argv = ["env", *(f"{key}={value}" for key, value in env.items()), *argv]
    if user is not None and is_root():
        argv = [RUNUSER, "-u", user, "--", *argv]
    logger.debug("run what=%r argv=%r", what, argv)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            input=input_text,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(f"{what}: {exc}") from exc
    logger.debug(
        "ran what=%r rc=%d seconds=%.1f", what, proc.returncode, time.monotonic() - started
    )
    if check and proc.returncode != 0:
        raise error(f"{what} failed (exit {proc.returncode}):\n{last_lines(proc.stdout)}")
    return proc


def last_lines(text: str, count: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])


def tail_file(path: Path, count: int = 25) -> str:
    try:
        return last_lines(path.read_text(errors="replace"), count)
    except OSError:
        return f"(no log at {path})"


def user_ids(user: str) -> tuple[int, int]:
    """The uid and gid of an OS user."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise ServicesError(f"OS user {user!r} does not exist") from exc
    return entry.pw_uid, entry.pw_gid


def chown(path: Path, user: str, *, recursive: bool = False) -> None:
    uid, gid = user_ids(user)
    os.chown(path, uid, gid, follow_symlinks=False)
    if recursive and path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                os.chown(Path(root) / name, uid, gid, follow_symlinks=False)


def ensure_traversable(path: Path, user: str) -> None:
    """Make sure ``user`` can reach ``path``: add o+x to any parent that blocks it."""
    probe = [RUNUSER, "-u", user, "--", "test", "-x", str(path)]
    if subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return
    for directory in [*reversed(path.parents), path]:
        check = [RUNUSER, "-u", user, "--", "test", "-x", str(directory)]
        if subprocess.run(check, check=False, capture_output=True).returncode != 0:
            mode = directory.stat().st_mode
            directory.chmod(mode | 0o001)
            logger.info("chmod_o+x path=%s for_user=%s", directory, user)


def process_alive(pid: int, needle: str) -> bool:
    """Whether ``pid`` runs (not a zombie) and its command line contains ``needle``."""
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in {"Z", "X"} and needle in cmdline


def read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
