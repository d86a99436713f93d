"""What every benchmark shares: a throwaway environment, threaded timing, results.

A benchmark gets a fresh database (migrated to head) and fresh Redis namespaces from
`Environment`, and hands back one `Result` per comparison: ours and the baseline, measured
side by side in alternating order, a few rounds each; the median round is what is reported.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine

from core.settings import Settings
from db.engine import make_engine
from db.migrate import upgrade
from tests.support.servers import Servers, create_database, drop_database, find_servers


@dataclass(frozen=True)
class Environment:
    """A migrated database and a unique Redis namespace for one `make bench` run."""

    servers: Servers
    settings: Settings
    engine: Engine

    def namespace(self, label: str) -> str:
        """Another unique Redis namespace, for a baseline that must not share keys with ours."""
        return f"{self.settings.redis_namespace}-{label}"


@contextmanager
def environment() -> Iterator[Environment]:
    """Create the database and namespace; drop both afterwards, even on failure."""
    servers = find_servers()
    name, url = create_database(servers.postgres_admin_url, prefix="backroom_bench")
    namespace = f"brbench-{uuid.uuid4().hex[:8]}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="test",
        database_url=url,
        redis_url=servers.redis_url,
        redis_namespace=namespace,
    )
    engine = make_engine(settings)
    try:
        upgrade(engine)
        yield Environment(servers, settings, engine)
    finally:
        engine.dispose()
        drop_database(servers.postgres_admin_url, name)
        client = redis.Redis.from_url(servers.redis_url)
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@dataclass(frozen=True)
class Run:
    """One measured run: operations, wall seconds, this process's CPU seconds, latency if measured."""

    ops: int
    seconds: float
    cpu_seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.ops


@dataclass
class Result:
    """One comparison: each side's runs, and the parameters it ran with. Medians are reported."""

    name: str
    params: str
    ours: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)

    def rate(self, side: list[Run]) -> float:
        return statistics.median(run.rate for run in side)

    def cpu_ms(self, side: list[Run]) -> float:
        return statistics.median(run.cpu_ms for run in side)

    @property
    def ratio(self) -> float:
        return self.rate(self.ours) / self.rate(self.baseline)


@contextmanager
def clock(ops: int) -> Iterator[list[Run]]:
    """Time the block (wall and this process's CPU, every thread); the `Run` lands in the list."""
    runs: list[Run] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield runs
    runs.append(Run(ops, time.perf_counter() - wall, time.process_time() - cpu))


def run_threads(threads: int, work: Callable[[int], None], ops: int) -> Run:
    """Run `work(index)` on `threads` threads released together; timed until the last one ends."""
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    pool = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    with clock(ops) as timed:
        barrier.wait()
        for thread in pool:
            thread.join()
    if errors:
        raise errors[0]
    return timed[0]


def alternate(result: Result, rounds: int, ours: Callable[[], Run], baseline: Callable[[], Run]) -> Result:
    """Measure both sides `rounds` times, swapping which goes first each round (ABBA...)."""
    for index in range(rounds):
        sides = [(result.ours, ours), (result.baseline, baseline)]
        for sink, measure in sides if index % 2 == 0 else reversed(sides):
            sink.append(measure())
    return result


def cores() -> int:
    """Cores this process may run on (what `nproc` says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
