"""Every Procfile line works when run by itself with only the environment set."""

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from db.engine import make_engine, sqlalchemy_url, transaction
from db.migrate import current_revision, head_revision
from tests.conftest import CRON, auth
from tests.e2e.conftest import ROOT, free_port, process_env, procfile_command, wait_http
from tests.support.servers import create_database, drop_database
from tests.support.waiting import wait_for


def _expired_hold(engine):
    checkout, sku = f"e2e-{uuid.uuid4().hex[:8]}", f"e2e-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as s:
        s.execute(
            text("INSERT INTO product (sku, name, stock, price, currency) VALUES (:s, 'x', 5, 100, 'USD')"),
            {"s": sku},
        )
        s.execute(
            text("INSERT INTO checkout (checkout_id, email) VALUES (:c, 'x@example.com')"), {"c": checkout}
        )
        s.execute(
            text("INSERT INTO reservation (checkout_id, sku, quantity, expires_at) VALUES (:c, :s, 1, :e)"),
            {"c": checkout, "s": sku, "e": datetime.now(UTC) - timedelta(seconds=5)},
        )
        s.execute(text("UPDATE product SET reserved = reserved + 1 WHERE sku = :s"), {"s": sku})
    return checkout


def _state(engine, checkout):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT state FROM reservation WHERE checkout_id = :c"), {"c": checkout}
        ).scalar_one()


def test_release_line_migrates_a_fresh_database(servers, settings):
    name, url = create_database(servers.postgres_admin_url, prefix="backroom_release")
    try:
        env = process_env(settings, DATABASE_URL=url)
        done = subprocess.run(
            ["/bin/sh", "-c", procfile_command("release")],
            env=env,
            capture_output=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr.decode()
        engine = create_engine(sqlalchemy_url(url))
        assert current_revision(engine) == head_revision()
        engine.dispose()
    finally:
        drop_database(servers.postgres_admin_url, name)


@pytest.mark.broker
def test_worker_line_runs_jobs_triggered_through_the_web_line(settings, engine, start_process):
    checkout = _expired_hold(engine)
    env = process_env(settings, PORT=str(free_port()), WEB_CONCURRENCY="1", LOG_FORMAT="json")
    worker = start_process("worker-stock", env)
    web = start_process("web", env)
    base = f"http://127.0.0.1:{env['PORT']}"
    wait_http(f"{base}/health", web)
    answer = requests.post(
        f"{base}/v1/jobs/stock-cleanup/run", headers={**auth(CRON), "X-Request-ID": "e2e-req-1"}, timeout=10
    )
    assert answer.status_code == 202
    wait_for(lambda: _state(engine, checkout) == "expired", timeout=60, what="worker to run the cleanup")
    assert worker.poll() is None
    # Every job log line carries its message id and actor; every request line its request id.
    message_id = answer.json()["message_id"]
    job_lines = wait_for(
        lambda: [
            json.loads(line)
            for line in worker.log_path.read_text().splitlines()
            if message_id in line and line.startswith("{")
        ],
        what="job log lines",
    )
    assert all(
        line["actor"] == "stock.cleanup_expired" and line["message_id"] == message_id for line in job_lines
    )
    web_lines = [
        json.loads(line)
        for line in web.log_path.read_text().splitlines()
        if line.startswith("{") and '"e2e-req-1"' in line
    ]
    assert any(line.get("event") == "request" and line["request_id"] == "e2e-req-1" for line in web_lines)
    assert CRON not in web.log_path.read_text()  # secrets never reach the logs


@pytest.mark.broker
def test_scheduler_line_fires_the_current_slot_once_and_a_worker_runs_it(fresh_settings, start_process):
    engine = make_engine(fresh_settings)
    checkout = _expired_hold(engine)
    env = process_env(fresh_settings)
    worker = start_process("worker-stock", env)
    first = start_process("scheduler", env)
    second = start_process("scheduler", env)  # a second scheduler must not fire the slot again
    logs = lambda: first.log_path.read_bytes() + second.log_path.read_bytes()  # noqa: E731
    try:
        wait_for(lambda: _state(engine, checkout) == "expired", timeout=60, what="scheduled cleanup to run")
        # Both caught up on the current slot at start; exactly one of them won it.
        wait_for(lambda: logs().count(b"scheduler.start") == 2, timeout=30, what="both schedulers up")
        wait_for(lambda: logs().count(b"Scheduler started") == 2, timeout=30, what="both ticking")
        assert first.poll() is None and second.poll() is None
        fired = [
            line for line in logs().splitlines() if b"schedule.fired" in line and b"job=stock-cleanup" in line
        ]
        with transaction(engine) as s:
            runs = s.execute(
                text(
                    "SELECT count(*), count(message_id) FROM schedule_run WHERE job_name = 'stock-cleanup' "
                    "AND fired_at > now() - interval '2 minutes'"
                )
            ).one()
        assert runs[0] >= 1 and runs[0] == runs[1]
        assert len(fired) == runs[0]  # each slot fired by one of the two schedulers, never both
    except AssertionError as error:
        tail = (logs() + worker.log_path.read_bytes()).decode(errors="replace")[-6000:]
        raise AssertionError(f"{error}\n--- scheduler and worker logs ---\n{tail}") from None
    finally:
        engine.dispose()


@pytest.mark.broker
def test_worker_stops_cleanly_on_sigterm(settings, start_process):
    import os
    import signal

    worker = start_process("worker-stock", process_env(settings))
    wait_for(
        lambda: b"Worker process is ready" in worker.log_path.read_bytes(), timeout=60, what="worker boot"
    )
    os.kill(worker.pid, signal.SIGTERM)  # the platform's stop signal; dramatiq stops its children
    assert worker.wait(timeout=30) == 0
    assert b"Worker has been shut down" in worker.log_path.read_bytes()
