"""Worker processes for the jobs bench: each builds its broker, then runs a Dramatiq worker when told.

A process is spawned (not forked) with the settings, builds either backroom's broker
(`worker.setup_broker`, every middleware, production JSON logging sent to /dev/null) or a bare
Dramatiq broker of the same kind (`RedisBroker` on its own namespace, or `RabbitmqBroker` on its
own queue name when the settings name RabbitMQ), declares the trivial actor, and answers "ready".
Each round the parent sends "go" (start a `dramatiq.Worker` with `threads` threads), may ask
"count" (how many jobs it ran so far), and once the queue is drained sends "done"; the process
stops its worker and answers how many jobs it ran in all and its RSS.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from multiprocessing.connection import Connection

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name, xq_name

from bench.memory import rss_mb
from core.logging import configure_logging
from core.settings import Settings
from worker.broker import setup_broker

QUEUE = "bench"


def quiet_logging(settings: Settings) -> None:
    """Production logging (JSON, INFO), its output sent to /dev/null instead of the terminal."""
    configure_logging(settings.model_copy(update={"log_format": "json", "log_level": "INFO"}))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (lives as long as the process)


def queue_name(kind: str, settings: Settings, bare_namespace: str) -> str:
    """Ours: `bench` (under BROKER_QUEUE_PREFIX on RabbitMQ). Bare Dramatiq on RabbitMQ has no
    prefix, so its queue is named after its namespace; on Redis the namespace keeps it apart."""
    if kind == "bare" and settings.broker_kind() == "rabbitmq":
        return f"{bare_namespace}.{QUEUE}"
    return QUEUE


def make_broker(kind: str, settings: Settings, bare_namespace: str) -> dramatiq.Broker:
    if kind == "ours":
        return setup_broker(settings)
    if settings.broker_kind() == "rabbitmq":
        # Publishing with confirms, as ours does (a Dramatiq option): RabbitMQ spends about 730 us
        # of CPU delivering each confirmed message against 260 for an unconfirmed one (2 x 8),
        # which on two saturated cores moved the ratio from 0.88 to 1.05 with the workers' own
        # CPU equal. The publishing is outside the clock; this keeps the comparison on the workers.
        return RabbitmqBroker(url=settings.broker_url, confirm_delivery=True)
    return RedisBroker(url=settings.redis_url, namespace=bare_namespace)


def drained(broker: dramatiq.Broker, queue: str, timeout_ms: int) -> None:
    """Wait until the queue is drained: on Redis every message acked; on RabbitMQ none left in the
    queue (AMQP cannot count unacked ones: the parent then asks the processes what they ran)."""
    if isinstance(broker, RabbitmqBroker):
        broker.join(queue, min_successes=1, idle_time=10, timeout=timeout_ms)
    else:
        assert isinstance(broker, RedisBroker)
        broker.join(queue, interval=10, timeout=timeout_ms)


def forget_queues(broker: dramatiq.Broker, queue: str) -> None:
    """RabbitMQ keeps durable queues after the run: delete this run's three."""
    if isinstance(broker, RabbitmqBroker):
        prefix = getattr(broker, "prefix", "")  # ours: its channel adds the prefix to declares only
        channel = broker.channel
        for name in (queue, dq_name(queue), xq_name(queue)):
            channel.queue_delete(queue=prefix + name)


def declare(broker: dramatiq.Broker, queue: str) -> tuple[dramatiq.Actor[[int], None], Callable[[], int]]:
    """The trivial actor on `broker`, and a function that says how many times it ran here."""
    done: list[int] = []

    def noop(n: int) -> None:
        done.append(n)  # atomic under the GIL; the only work the job does

    actor = dramatiq.actor(actor_name="bench.noop", queue_name=queue, broker=broker)(noop)
    return actor, lambda: len(done)


def serve(kind: str, settings: Settings, bare_namespace: str, threads: int, parent: Connection) -> None:
    """The child process's body (a `multiprocessing` target)."""
    quiet_logging(settings)
    broker = make_broker(kind, settings, bare_namespace)
    _, ran = declare(broker, queue_name(kind, settings, bare_namespace))
    parent.send("ready")
    try:
        while parent.recv() == "go":
            worker = dramatiq.Worker(broker, worker_threads=threads)
            worker.start()
            while parent.recv() == "count":  # until "done": the parent saw the queue drained
                parent.send(ran())
            worker.stop()
            parent.send((ran(), rss_mb(os.getpid())))
    finally:
        broker.close()
