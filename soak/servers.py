"""The soak's own PostgreSQL and Redis: the machine's binaries on free ports, data in a temp dir.

Never the machine's servers: the run restarts these, so they must be ones nobody else uses.
PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (the Debian
package's), else `nobody`. Redis keeps nothing on disk: a restart empties it, as in production
with persistence off. `up` says whether the server is meant to be answering, for the audit.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import redis

PG_BIN = Path(os.environ.get("SOAK_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")


def _wait(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout}s")


class Postgres:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.data = directory / "pgdata"
        self.log = directory / "postgres.log"
        self.user = _pg_user()
        self.process: subprocess.Popen[bytes] | None = None
        self.up = False
        directory.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(directory, self.user)
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            user=self.user,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def start(self) -> None:
        options = ["-p", str(self.port), "-k", str(self.data), "-c", "listen_addresses=127.0.0.1"]
        options += ["-c", "max_connections=200", "-c", "fsync=off"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(PG_BIN / "postgres"), "-D", str(self.data), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self.user,
                start_new_session=True,
            )
        _wait(self._answers, "PostgreSQL")
        self.up = True

    def stop(self) -> None:
        self.up = False
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: what a failover looks like
            self.process.wait(timeout=60)


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.up = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        _wait(self._answers, "Redis")
        self.up = True

    def stop(self) -> None:
        self.up = False
        if self.process and self.process.poll() is None:
            self.process.kill()  # nothing on disk either way: what it held is gone
            self.process.wait(timeout=30)
