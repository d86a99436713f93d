"""Job throughput: backroom's broker and middleware against a bare Dramatiq RedisBroker.

Ours: the broker from `worker.setup_broker(settings)`, with every backroom
middleware (log context, database, retry policy), running a trivial actor.
Baseline: `RedisBroker` with Dramatiq's default middleware, the same actor
body. For each, M messages are enqueued first; the clock runs from starting a
`dramatiq.Worker` to `broker.join` seeing the queue drained (every message acked).
Log lines are rendered as in production (JSON at INFO) but written to /dev/null.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.harness import Environment, Result, Run, alternate, clock
from core.logging import configure_logging
from worker.broker import setup_broker

QUEUE = "bench"


def quiet_logging(env: Environment) -> None:
    """Production logging (JSON, INFO), its output sent to /dev/null instead of the terminal."""
    configure_logging(env.settings.model_copy(update={"log_format": "json", "log_level": "INFO"}))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (lives as long as the process)


def declare(broker: RedisBroker) -> tuple[dramatiq.Actor[[int], None], Callable[[], int]]:
    """The trivial actor on `broker`, and a function that says how many times it ran."""
    done: list[int] = []

    def noop(n: int) -> None:
        done.append(n)  # atomic under the GIL; the only work the job does

    actor = dramatiq.actor(actor_name="bench.noop", queue_name=QUEUE, broker=broker)(noop)
    return actor, lambda: len(done)


def drain(
    broker: RedisBroker,
    actor: dramatiq.Actor[[int], None],
    ran: Callable[[], int],
    *,
    messages: int,
    threads: int,
) -> Run:
    """Enqueue `messages`, then time a worker from its start until they are all acked."""
    before = ran()
    for n in range(messages):
        actor.send(n)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    with clock(messages) as timed:
        worker.start()
        broker.join(QUEUE, interval=10, timeout=120_000)
    worker.stop()
    processed = ran() - before
    assert processed == messages, f"{processed} of {messages} messages ran"
    return timed[0]


def run(env: Environment, *, messages: int, threads: int, rounds: int) -> list[Result]:
    """Both brokers side by side in this process; a small warm-up drain on each first."""
    quiet_logging(env)
    ours_broker = setup_broker(env.settings)
    bare = RedisBroker(url=env.settings.redis_url, namespace=env.namespace("bare"))
    ours_actor, ours_ran = declare(ours_broker)
    bare_actor, bare_ran = declare(bare)
    result = Result("jobs, noop actor", f"{messages} messages, 1 worker x {threads} threads, queue {QUEUE!r}")
    try:
        alternate(
            Result("warm-up", ""),
            1,
            lambda: drain(ours_broker, ours_actor, ours_ran, messages=100, threads=threads),
            lambda: drain(bare, bare_actor, bare_ran, messages=100, threads=threads),
        )
        alternate(
            result,
            rounds,
            lambda: drain(ours_broker, ours_actor, ours_ran, messages=messages, threads=threads),
            lambda: drain(bare, bare_actor, bare_ran, messages=messages, threads=threads),
        )
    finally:
        ours_broker.close()
        bare.close()
    return [result]
