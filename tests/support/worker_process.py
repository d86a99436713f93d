"""A real `dramatiq worker.entry` process on settings of a test's own, and what is in flight in Redis.

For tests whose worker needs other settings than the session's (short retries, a short time limit):
actors bind to one broker per process, so such a worker must be a process of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from core.settings import Settings
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[name.upper()] = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env | {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"} | extra


@contextmanager
def worker_process(
    settings: Settings, queues: list[str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a worker consuming `queues`, wait until it is ready, stop it (SIGTERM) afterwards."""
    command = [sys.executable, "-m", "dramatiq", "worker.entry", "--queues", *queues]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "--processes", "1", "--threads", "2"],
            cwd=ROOT,
            env=settings_env(settings),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: process.poll() is not None or b"Worker process is ready" in log_path.read_bytes(),
            timeout=60,
            what="the worker to boot",
        )
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def in_flight(settings: Settings, queue: str) -> int:
    """Messages of `queue` waiting, delayed or being worked on by any worker, straight from Redis.

    A retry is enqueued before the failed delivery is acknowledged, so a chain that is still alive
    is always counted here; 0 means every chain of this queue has ended.
    """
    client = redis.Redis.from_url(settings.redis_url)
    ns = settings.redis_namespace
    try:
        total = client.hlen(f"{ns}:{queue}.msgs") + client.hlen(f"{ns}:{queue}.DQ.msgs")
        for pattern in (f"{ns}:__acks__.*.{queue}", f"{ns}:__acks__.*.{queue}.DQ"):
            total += sum(client.scard(key) for key in client.scan_iter(match=pattern))
        return int(total)
    finally:
        client.close()
