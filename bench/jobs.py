"""Job throughput: backroom's broker and middleware against bare Dramatiq, on Redis and on RabbitMQ.

Ours: the broker from `worker.setup_broker(settings)`, with every backroom middleware (log
context, database, retry policy), running a trivial actor. Baseline: `RedisBroker` with
Dramatiq's default middleware, the same actor body. Both run in worker processes of their own
(bench/job_workers.py), at today's setting (1 process x `threads`) and at 2 processes x 8
threads. Each round enqueues M messages first; the clock runs from telling the processes to
start their workers until `broker.join` sees the queue drained (every message acked).

The same comparisons then run on RabbitMQ when it answers at $BENCH_RABBITMQ_URL (default
guest@127.0.0.1:5672): backroom's broker (`BROKER_URL=amqp://…`, publisher confirms, classic
queues) against a bare `RabbitmqBroker` publishing with confirms too (`confirm_delivery=True`: the
messages then cost RabbitMQ the same to deliver), same processes and threads. AMQP cannot count unacked
messages, so there the clock stops when the processes report every message run.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from typing import Any

import pika

from bench.checks import Checks
from bench.harness import Environment, Result, Run, alternate, clock
from bench.job_workers import declare, drained, forget_queues, make_broker, queue_name, serve
from bench.memory import Memory


class Pool:
    """`processes` worker processes of one kind, and this process's broker to enqueue with."""

    def __init__(self, env: Environment, kind: str, processes: int, threads: int, checks: Checks) -> None:
        self.kind, self.checks = kind, checks
        self.rabbitmq = env.settings.broker_kind() == "rabbitmq"
        context = multiprocessing.get_context("spawn")
        self.broker = make_broker(kind, env.settings, env.namespace("bare"))
        self.queue = queue_name(kind, env.settings, env.namespace("bare"))
        self.actor, _ = declare(self.broker, self.queue)
        self.pipes: list[Connection] = []
        self.children: list[Any] = []
        for _ in range(processes):
            mine, theirs = context.Pipe()
            child = context.Process(
                target=serve, args=(kind, env.settings, env.namespace("bare"), threads, theirs), daemon=True
            )
            child.start()
            self.pipes.append(mine)
            self.children.append(child)
        for pipe in self.pipes:
            assert pipe.recv() == "ready"
        self.ran = [0] * processes
        self.rss: list[float] = []

    def drain(self, messages: int) -> Run:
        for n in range(messages):
            self.actor.send(n)
        before = sum(self.ran)
        with clock(messages) as timed:
            for pipe in self.pipes:
                pipe.send("go")
            drained(self.broker, self.queue, 120_000)
            deadline = time.monotonic() + 120
            while self.rabbitmq and self.ran_so_far() - before < messages and time.monotonic() < deadline:
                time.sleep(0.005)  # the last prefetched messages may still be running
        for index, pipe in enumerate(self.pipes):
            pipe.send("done")
            self.ran[index], rss = pipe.recv()
            self.rss.append(rss)
        processed = sum(self.ran) - before
        self.checks.expect(
            f"jobs{' on RabbitMQ' if self.rabbitmq else ''} ({self.kind}): every message ran once",
            processed == messages,
            f"{processed} of {messages}",
        )
        return timed[0]

    def ran_so_far(self) -> int:
        for pipe in self.pipes:
            pipe.send("count")
        return sum(pipe.recv() for pipe in self.pipes)

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for child in self.children:
            child.join(timeout=30)
        forget_queues(self.broker, self.queue)
        self.broker.close()


def run(
    env: Environment, *, messages: int, threads: int, rounds: int, memory: Memory, checks: Checks
) -> list[Result]:
    """Ours and bare side by side at each setting, on Redis, then on RabbitMQ if it answers; the
    worker processes live across the rounds."""
    envs = [("", env)]
    rabbitmq = rabbitmq_environment(env)
    if rabbitmq is None:
        print(f"jobs on RabbitMQ skipped: nothing answers at {RABBITMQ_URL}", flush=True)
    else:
        envs.append((" rabbitmq", rabbitmq))
    return [
        compare(
            on,
            processes,
            per_process,
            messages=messages * scale * (3 if broker else 1),
            # A RabbitMQ round's rate varies far more between rounds (the same side ranges over
            # 1.5x within a run: its queue process, flow control and pika's I/O thread share the
            # two cores): four more rounds a side for a steadier median.
            rounds=rounds + 4 if broker and rounds > 1 else rounds,
            memory=memory,
            checks=checks,
            broker=broker,
        )
        for broker, on in envs
        # 2 x 8 drains about three times as fast, and RabbitMQ about three times as fast as Redis:
        # as many times the messages keep a round over a second (shorter ones measure start-up)
        for processes, per_process, scale in ((1, threads, 1), (2, 8, 3))
    ]


RABBITMQ_URL = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def rabbitmq_environment(env: Environment) -> Environment | None:
    """The same environment with BROKER_URL on RabbitMQ (queues under the run's namespace, expiring
    if a run dies before deleting them); None when RabbitMQ does not answer."""
    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except Exception:  # any failure to connect means no RabbitMQ to measure on
        return None
    settings = env.settings.model_copy(
        update={
            "broker_url": RABBITMQ_URL,
            "broker_queue_prefix": f"{env.settings.redis_namespace}.",
            "broker_queue_expires_seconds": 3600,
        }
    )
    return Environment(env.servers, settings, env.engine)


def compare(
    env: Environment,
    processes: int,
    threads: int,
    *,
    messages: int,
    rounds: int,
    memory: Memory,
    checks: Checks,
    broker: str = "",
) -> Result:
    ours, bare = (Pool(env, kind, processes, threads, checks) for kind in ("ours", "bare"))
    setting = f"{processes} x {threads}"
    result = Result(f"jobs{broker}, noop, {setting}", f"bare Dramatiq{broker}, {messages} messages")
    try:
        alternate(Result("warm-up", ""), 1, lambda: ours.drain(100), lambda: bare.drain(100))
        alternate(result, rounds, lambda: ours.drain(messages), lambda: bare.drain(messages))
        # RSS of the largest of our worker processes after each round, the warm-up's first.
        rss = ours.rss
        memory.samples[f"job worker{broker} {setting}"] = [
            max(rss[i : i + processes]) for i in range(0, len(rss), processes)
        ]
    finally:
        ours.close()
        bare.close()
    return result
