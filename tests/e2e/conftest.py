"""End-to-end fixtures: the real processes of the Procfile, started as a platform would."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from core.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import Servers, create_database, drop_database
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a platform would give each Procfile process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        env[name.upper()] = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["LOG_LEVEL"] = "INFO"
    env.update(extra)
    return env


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise KeyError(name)


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Run a Procfile line by itself through the shell; stopped with SIGTERM afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        # One file per process: two schedulers must not write over each other's log.
        log_path = tmp_path / f"{name}-{len(started)}.log"
        log = open(log_path, "wb")  # noqa: SIM115
        process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {procfile_command(name)}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        process.log_path = log_path  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"process exited: {shlex.join(map(str, process.args))}\n"
                + process.log_path.read_text()[-3000:]
            )  # type: ignore[attr-defined]
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_for(up, timeout=timeout, interval=0.1, what=url)


@pytest.fixture
def fresh_settings(servers: Servers) -> Iterator[Settings]:
    """Settings on a database of its own, for tests whose outcome depends on no one else's rows
    (schedule slots are global to a database)."""
    from db.engine import make_engine
    from db.migrate import upgrade

    name, url = create_database(servers.postgres_admin_url, prefix="backroom_e2e")
    settings = make_settings(url, servers.redis_url)
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    yield settings
    drop_database(servers.postgres_admin_url, name)


@pytest.fixture
def web(settings: Settings, start_process: Callable[..., subprocess.Popen[bytes]]) -> str:
    """gunicorn serving the app from the Procfile's `web` line, on a free port."""
    port = free_port()
    env = process_env(settings, PORT=str(port), WEB_CONCURRENCY="2")
    process = start_process("web", env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/ready", process)
    return base
