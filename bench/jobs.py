"""Job throughput: backroom's broker and middleware against a bare Dramatiq RedisBroker.

Ours: the broker from `worker.setup_broker(settings)`, with every backroom middleware (log
context, database, retry policy), running a trivial actor. Baseline: `RedisBroker` with
Dramatiq's default middleware, the same actor body. Both run in worker processes of their own
(bench/job_workers.py), at today's setting (1 process x `threads`) and at 2 processes x 8
threads. Each round enqueues M messages first; the clock runs from telling the processes to
start their workers until `broker.join` sees the queue drained (every message acked).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from bench.checks import Checks
from bench.harness import Environment, Result, Run, alternate, clock
from bench.job_workers import declare, drained, make_broker, serve
from bench.memory import Memory


class Pool:
    """`processes` worker processes of one kind, and this process's broker to enqueue with."""

    def __init__(self, env: Environment, kind: str, processes: int, threads: int, checks: Checks) -> None:
        self.kind, self.checks = kind, checks
        context = multiprocessing.get_context("spawn")
        self.broker = make_broker(kind, env.settings, env.namespace("bare"))
        self.actor, _ = declare(self.broker)
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
        with clock(messages) as timed:
            for pipe in self.pipes:
                pipe.send("go")
            drained(self.broker, 120_000)
        before = sum(self.ran)
        for index, pipe in enumerate(self.pipes):
            pipe.send("done")
            self.ran[index], rss = pipe.recv()
            self.rss.append(rss)
        processed = sum(self.ran) - before
        self.checks.expect(
            f"jobs ({self.kind}): every message ran once", processed == messages, f"{processed} of {messages}"
        )
        return timed[0]

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for child in self.children:
            child.join(timeout=30)
        self.broker.close()


def run(
    env: Environment, *, messages: int, threads: int, rounds: int, memory: Memory, checks: Checks
) -> list[Result]:
    """Both brokers side by side at each setting; the worker processes live across the rounds."""
    return [
        compare(
            env,
            processes,
            per_process,
            messages=messages * scale,
            rounds=rounds,
            memory=memory,
            checks=checks,
        )
        # 2 x 8 drains about three times as fast: three times the messages keep a round over a second
        for processes, per_process, scale in ((1, threads, 1), (2, 8, 3))
    ]


def compare(
    env: Environment,
    processes: int,
    threads: int,
    *,
    messages: int,
    rounds: int,
    memory: Memory,
    checks: Checks,
) -> Result:
    ours, bare = (Pool(env, kind, processes, threads, checks) for kind in ("ours", "bare"))
    setting = f"{processes} x {threads}"
    result = Result(f"jobs, noop, {setting}", f"bare Dramatiq, {messages} messages")
    try:
        alternate(Result("warm-up", ""), 1, lambda: ours.drain(100), lambda: bare.drain(100))
        alternate(result, rounds, lambda: ours.drain(messages), lambda: bare.drain(messages))
        # RSS of the largest of our worker processes after each round, the warm-up's first.
        rss = ours.rss
        memory.samples[f"job worker {setting}"] = [
            max(rss[i : i + processes]) for i in range(0, len(rss), processes)
        ]
    finally:
        ours.close()
        bare.close()
    return result
