"""Watching the run from outside, once a second: what `/ready` says beside whether the soak's
servers are up, and whether any product ever had more reserved than in stock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
import requests

from soak.ledger import Ledger
from soak.servers import Postgres, Redis


class Monitor:
    def __init__(
        self, base: str, database_url: str, postgres: Postgres, redis: Redis, ledger: Ledger
    ) -> None:
        self.base, self.database_url = base, database_url
        self.postgres, self.redis, self.ledger = postgres, redis, ledger
        self.stop = threading.Event()

    def up(self) -> bool:
        return self.postgres.up and self.redis.up

    def run(self) -> None:
        while not self.stop.wait(1.0):
            before = self.up()
            try:
                status = requests.get(f"{self.base}/ready", timeout=3).status_code
            except requests.RequestException:
                status = 0
            if before == self.up():  # a sample taken across a transition proves nothing
                self.ledger.ready_samples.append((time.time(), status, before))
            if self.postgres.up:
                self.ledger.oversold.extend(self.oversold())

    def oversold(self) -> list[str]:
        try:
            with psycopg.connect(self.database_url, connect_timeout=2) as db:
                rows = db.execute("SELECT sku FROM product WHERE reserved > stock").fetchall()
        except psycopg.Error:
            return []
        return [f"{datetime.now(UTC):%H:%M:%S} {row[0]}" for row in rows]


def backlog_before(database_url: str, since: datetime) -> int:
    """Intents that existed at `since` and are still not done: webhook events still `received`,
    emails still `pending`. None left is what "recovered" means here; under steady load the
    queues are never empty, but what was there when the server came back must drain."""
    with psycopg.connect(database_url, connect_timeout=2) as db:
        row = db.execute(
            "SELECT (SELECT count(*) FROM webhook_event WHERE state = 'received' AND received_at <= %(t)s)"
            " + (SELECT count(*) FROM email_outbox WHERE state = 'pending' AND created_at <= %(t)s)",
            {"t": since},
        ).fetchone()
    return int(row[0]) if row else 0


def recovery_seconds(database_url: str, since: datetime, timeout: float = 300) -> float | None:
    """Seconds from `since` until its backlog drained; None if it did not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if backlog_before(database_url, since) == 0:
                return (datetime.now(UTC) - since).total_seconds()
        except psycopg.Error:
            pass
        time.sleep(0.5)
    return None
