"""What the HTTP benchmarks share: the servers under test, the load's shape, rounds in ABBA order.

`Stage` holds the gunicorn serving backroom, the one serving the trivial app, the length of a
round, the connection count, and where memory samples and checks go. `measure` runs several
sides a number of rounds, reversing their order every other round (A B C, C B A, ...), after one
unrecorded warm-up round of each; RSS of the web workers is sampled after every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from bench.checks import Checks
from bench.harness import Environment, Run
from bench.memory import Memory
from bench.web import Web

BUSY = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'backroom' AND state <> 'idle'"
)


@dataclass
class Stage:
    env: Environment
    web: Web
    trivial: Web
    seconds: float
    connections: int
    rounds: int
    memory: Memory
    checks: Checks
    serial: int = 0

    def next_id(self) -> str:
        """A short id unique in this run: checkout ids and event ids start with it."""
        self.serial += 1
        return f"r{self.serial}"

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run one statement on the bench database (autocommit); its rows, if any."""
        for attempt in range(5):
            try:
                with psycopg.connect(self.env.settings.database_url, autocommit=True) as connection:
                    cursor = connection.execute(statement, params)
                    return cursor.fetchall() if cursor.description else []
            except psycopg.errors.DeadlockDetected:  # a TRUNCATE against autovacuum, say
                if attempt == 4:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def number(self, statement: str, params: tuple[object, ...] = ()) -> int:
        """The integer a one-value query answers (a count, a stock level)."""
        value = self.sql(statement, params)[0][0]
        assert isinstance(value, int), value
        return value

    def settle(self, timeout: float = 60) -> None:
        """Wait until the web workers have finished the requests a load generator left queued
        when it stopped (gunicorn still serves them): no backroom session busy, three looks in a row."""
        deadline, quiet = time.monotonic() + timeout, 0
        while quiet < 3 and time.monotonic() < deadline:
            busy = self.number(BUSY)
            quiet = quiet + 1 if busy == 0 else 0
            time.sleep(0.05)

    def measure(self, sides: dict[str, Callable[[], Run]]) -> dict[str, list[Run]]:
        """Each side's measured runs: warm-up first, then `rounds` rounds in alternating order."""
        found: dict[str, list[Run]] = {name: [] for name in sides}
        order = list(sides)
        for index in range(self.rounds + 1):
            for name in order if index % 2 == 0 else reversed(order):
                run = sides[name]()
                self.settle()
                if index > 0:
                    found[name].append(run)
            self.memory.sample("web worker", self.web.workers())
        return found
