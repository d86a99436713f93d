"""What a running `make run` leaves under var/: its lock (with its PID) and its servers' URLs.

`var/run.lock` is held with `flock` for the whole run, so a second run in the same checkout
sees the first and stops before touching its embedded servers (pgserver would otherwise share
the first run's PostgreSQL and stop it on exit). The kernel drops the lock when the holder dies,
so a lock file left by a killed run is simply taken over. `var/servers.env` holds the embedded
servers' URLs while the run holds the lock; other `backroom` commands read it when no URL is
configured, and ignore it when no run holds the lock (a crashed run's file points at nothing).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from dotenv import dotenv_values

LOCK_NAME = "run.lock"
SERVERS_NAME = "servers.env"
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL")


class AlreadyRunning(Exception):
    """Another run holds the lock; `pid` is what it wrote (None if it could not be read)."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(pid)
        self.pid = pid


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def acquire(var: Path, wait_seconds: float = 1.0) -> int:
    """Hold `var/run.lock` for this process and write our PID in it; the open descriptor is
    returned (closing it, or exiting, releases the lock). `AlreadyRunning` if a live process
    holds it. Tries for `wait_seconds`, so a command probing the lock at that instant is no
    reason to give up."""
    var.mkdir(parents=True, exist_ok=True)
    path = var / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise AlreadyRunning(_read_pid(path)) from None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def is_held(var: Path) -> bool:
    """Whether a run holds `var/run.lock` right now."""
    try:
        fd = os.open(var / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases our shared lock, if we got it
    return False


def write_servers(var: Path, urls: dict[str, str]) -> Path:
    """Write the embedded servers' URLs (no password in them: local sockets, trust auth)."""
    path = var / SERVERS_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# Written by `make run` while it runs; read by `backroom` commands.\n")
        out.writelines(f"{name}={value}\n" for name, value in urls.items())
    return path


def running_servers(var: Path) -> dict[str, str]:
    """The URLs in `var/servers.env` if a run holds the lock, else nothing."""
    path = var / SERVERS_NAME
    if not is_held(var) or not path.exists():
        return {}
    values = dotenv_values(path)
    return {name: value for name in SERVER_VARIABLES if (value := values.get(name))}
