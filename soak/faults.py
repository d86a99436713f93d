"""The faults, one at a time on a timeline scaled to the run: Redis restarted twice (emptied),
PostgreSQL restarted once, a random worker family SIGKILLed every minute (every fifth of a
short run) and started again, a scheduler killed and started again. Each server fault records
how long the server was down and how long, once back, the backlog it left took to drain."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from soak.monitor import recovery_seconds
from soak.servers import Postgres, Redis
from soak.stack import WORKERS, Stack

KINDS = ("redis", "postgres", "workers", "scheduler")


@dataclass
class Fault:
    kind: str
    target: str
    at: float  # seconds into the run
    down_seconds: float = 0.0
    recovery_seconds: float | None = None
    down_ts: float = 0.0  # epoch seconds: the window [down_ts, up_ts] excuses what it caused
    restart_ts: float = 0.0  # when the restart began: from here the server may answer before `up`
    up_ts: float = 0.0
    up_at: datetime | None = None


def timeline(seconds: float, kinds: set[str]) -> list[tuple[float, str]]:
    plan = []
    if "redis" in kinds:
        plan += [(0.2 * seconds, "redis"), (0.6 * seconds, "redis")]
    if "postgres" in kinds:
        plan.append((0.4 * seconds, "postgres"))
    if "scheduler" in kinds:
        plan.append((0.75 * seconds, "scheduler"))
    if "workers" in kinds:
        every = min(60.0, seconds / 5)
        plan += [(every * n + 0.05 * seconds, "worker") for n in range(int(seconds / every))]
    return sorted(plan)


class Faults:
    def __init__(self, stack: Stack, postgres: Postgres, redis: Redis, database_url: str, seed: int) -> None:
        self.stack, self.postgres, self.redis, self.database_url = stack, postgres, redis, database_url
        # The families whose messages matter most go first, the rest in a seeded order.
        rest = [w for w in WORKERS if w not in ("worker-webhooks", "worker-email")]
        self.victims = ["worker-webhooks", "worker-email", *random.Random(seed).sample(rest, len(rest))]
        self.done: list[Fault] = []
        self.stop = threading.Event()
        self._recoveries: list[threading.Thread] = []

    def run(self, plan: list[tuple[float, str]]) -> None:
        started = time.monotonic()
        for at, kind in plan:
            if self.stop.wait(max(0.0, at - (time.monotonic() - started))):
                return
            fault = Fault(kind, kind, round(time.monotonic() - started, 1))
            down, fault.down_ts = time.monotonic(), time.time()
            if kind in ("redis", "postgres"):
                server = self.redis if kind == "redis" else self.postgres
                server.stop()
                time.sleep(3.0 if kind == "redis" else 5.0)
                fault.restart_ts = time.time()
                server.start()
            else:
                label = self.victims.pop(0) if kind == "worker" else "scheduler-1"
                self.victims.append(label)
                fault.target = label
                self.stack.kill(label)
                time.sleep(2.0 if kind == "worker" else 5.0)  # the platform notices, then restarts it
                self.stack.restart(label)
            fault.down_seconds = round(time.monotonic() - down, 1)
            fault.up_at, fault.up_ts = datetime.now(UTC), time.time()
            self.done.append(fault)
            thread = threading.Thread(target=self._recover, args=(fault,), daemon=True)
            thread.start()
            self._recoveries.append(thread)

    def _recover(self, fault: Fault) -> None:
        assert fault.up_at is not None
        seconds = recovery_seconds(self.database_url, fault.up_at)
        fault.recovery_seconds = round(seconds, 1) if seconds is not None else None

    def wait_recoveries(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._recoveries:
            thread.join(max(0.0, deadline - time.monotonic()))
