"""One soak run: its own servers and processes, the load and the faults for `seconds`, a drain,
then the audit. Everything it started is stopped on the way out, failure or not."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from soak import audit, audit_run, audit_stock
from soak.config import environment
from soak.faults import Fault, Faults, timeline
from soak.ledger import Ledger
from soak.load import Driver
from soak.monitor import Monitor, backlog_before
from soak.servers import Postgres, Redis, free_port
from soak.stack import Stack
from tests.support.resend_server import ResendServer


@dataclass(frozen=True)
class Outcome:
    checks: list[audit.Check]
    faults: list[Fault]
    ledger: Ledger
    seconds: float
    drained_in: float | None
    logs: Path


def _wait_ready(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("the web tier never became ready")


def _drain(database_url: str, timeout: float) -> float | None:
    """Seconds until nothing is left to do (every event processed, every email sent)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if backlog_before(database_url, audit.now_utc()) == 0:
            return round(time.monotonic() - started, 1)
        time.sleep(1.0)
    return None


def soak(seconds: float, kinds: set[str], threads: int = 3, rate: float = 2.0, seed: int = 14) -> Outcome:
    work = Path(tempfile.mkdtemp(prefix="backroom-soak-"))
    work.chmod(0o755)  # PostgreSQL runs as another user when we are root: it must reach pg/
    logs = work / "logs"
    logs.mkdir()
    postgres, redis, ledger = Postgres(work / "pg"), Redis(), Ledger()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ResendServer(api_key="re_soak_0123456789") as resend:
        postgres.start()
        redis.start()
        stack: Stack | None = None
        try:
            with psycopg.connect(postgres.url, autocommit=True) as db:
                db.execute("CREATE DATABASE backroom")
            database_url = postgres.url.rsplit("/", 1)[0] + "/backroom"
            stack = Stack(environment(database_url, redis.url, resend.url, port, logs), logs)
            stack.migrate()
            stack.start_all()
            _wait_ready(base)
            driver, monitor = Driver(base, ledger, rate), Monitor(base, database_url, postgres, redis, ledger)
            driver.seed_products()
            faults = Faults(stack, postgres, redis, database_url, seed)
            workers = [threading.Thread(target=driver.run, args=(seed + n,)) for n in range(threads)]
            workers += [
                threading.Thread(target=monitor.run),
                threading.Thread(target=faults.run, args=(timeline(seconds, kinds),)),
            ]
            for thread in workers:
                thread.start()
            time.sleep(seconds)
            driver.stop.set()
            faults.stop.set()
            for thread in workers[:threads] + workers[threads + 1 :]:
                thread.join()
            until = time.time()
            drained = _drain(database_url, timeout=240)
            monitor.stop.set()
            workers[threads].join()
            faults.wait_recoveries(timeout=30)
            checks = [
                audit.webhooks(database_url, ledger),
                audit_stock.stock(database_url, ledger),
                audit.emails(database_url, resend),
                audit.subscriptions(database_url, ledger, until - 30),
                audit_run.schedules(database_url),
                audit_run.dead_letters(database_url, faults.done),
                audit_run.web_tier(ledger, faults.done),
                audit_run.readiness(ledger, faults.done),
                audit.processes(stack),
            ]
        finally:
            if stack is not None:
                stack.stop_all()
            redis.stop()
            postgres.stop()
    shutil.rmtree(work / "pg", ignore_errors=True)  # the logs are what to read; the data is spent
    return Outcome(checks, faults.done, ledger, seconds, drained, logs)
