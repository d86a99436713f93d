"""The web tier as production runs it: the Procfile's `web` line under gunicorn, for a bench.

`serve(settings, (label, app), ...)` starts that line through the shell for each app (2 workers
x 4 threads unless WEB_CONCURRENCY / WEB_THREADS say otherwise) on a free port with the settings
in its environment, waits for answers, and stops them afterwards. `app` swaps only the WSGI
target, so the trivial baseline app runs under exactly the same gunicorn settings. Its output goes to
a log file, not the terminal: INFO logging stays on, as in production.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.memory import children
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
APP = "'api.app:get_app()'"
TRIVIAL = "'bench.trivial_app:get_app()'"


@dataclass(frozen=True)
class Web:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        """The gunicorn worker processes' pids (the shell's child is the master)."""
        return [pid for master in children(self.process.pid) for pid in children(master)] or children(
            self.process.pid
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a platform would give the process: every setting as a variable."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            secret = getattr(value, "get_secret_value", None)
            env[name.upper()] = secret() if secret else str(value)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def web_command(app: str = APP) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip().replace(APP, app)
    raise KeyError("web")


@contextmanager
def serve(settings: Settings, *apps: tuple[str, str]) -> Iterator[list[Web]]:
    """One gunicorn per `(label, app)`, all started before any is waited for; stopped afterwards."""
    started = [_launch(settings, app, label) for label, app in apps]
    try:
        for web in started:
            _wait_ready(web)
        yield started
        for web in started:  # kept only when something went wrong: it is what to read then
            shutil.rmtree(web.log.parent, ignore_errors=True)
    finally:
        for web in started:
            os.killpg(web.process.pid, signal.SIGTERM)
        for web in started:
            try:
                web.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(web.process.pid, signal.SIGKILL)
                web.process.wait()


def _launch(settings: Settings, app: str, label: str) -> Web:
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="backroom-bench-")) / f"{label}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S602  (the Procfile line, as a platform runs it)
            web_command(app),
            shell=True,
            cwd=ROOT,
            env=environment(settings, PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Web(f"http://127.0.0.1:{port}", process, log)


def _wait_ready(web: Web, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {web.log.read_text()[-2000:]}")
        try:
            requests.get(f"{web.url}/health", timeout=1)
            if len(web.workers()) >= int(os.environ.get("WEB_CONCURRENCY", "2")):
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {timeout}s: {web.log.read_text()[-2000:]}")
