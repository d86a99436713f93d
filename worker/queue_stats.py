"""Queue depth read straight from the broker: ready, delayed, in flight, dead, oldest age.

On Redis every figure comes from the broker's keys. On RabbitMQ (worker/rabbitmq_stats.py) only
what AMQP answers without the management API: `in_flight` and `oldest_age_seconds` are None there.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from core.rules.dead_letters import canonical_queue


@dataclass(frozen=True)
class QueueStats:
    """None: the broker cannot tell (RabbitMQ without its management API)."""

    queue: str
    ready: int
    delayed: int
    in_flight: int | None
    dead_in_broker: int  # Dramatiq's own dead-letter queue, before the ledger takes it over
    oldest_age_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        # `dead_in_redis`: the name before RabbitMQ, kept for the API's and CLI's existing readers.
        return asdict(self) | {"dead_in_redis": self.dead_in_broker}


def dead_letter_key(namespace: str, queue: str) -> str:
    """Redis's dead-letter set of a queue (its message bodies in the hash `<key>.msgs`); a message
    that failed from the delay queue is kept under its plain queue."""
    return f"{namespace}:{canonical_queue(queue)}.XQ"


def _oldest_age(broker: RedisBroker, key: str, now_ms: int) -> float | None:
    """Age of the message at the head of the ready list (pushed right, popped left: the oldest)."""
    head = broker.client.lindex(key, 0)
    if head is None:
        return None
    raw = broker.client.hget(f"{key}.msgs", head)
    if raw is None:
        return None
    try:
        enqueued = int(json.loads(raw)["message_timestamp"])
    except (ValueError, KeyError, TypeError):
        return None
    return max(0.0, (now_ms - enqueued) / 1000)


def queue_stats(broker: dramatiq.Broker, queues: list[str], now_ms: int | None = None) -> list[QueueStats]:
    """One row per queue, from whichever broker this is."""
    if isinstance(broker, RedisBroker):
        return redis_queue_stats(broker, queues, now_ms)
    from worker.rabbitmq_stats import rabbitmq_queue_stats  # imports pika: only on RabbitMQ

    return rabbitmq_queue_stats(broker, queues)


def redis_queue_stats(broker: RedisBroker, queues: list[str], now_ms: int | None = None) -> list[QueueStats]:
    """In flight counts messages workers have fetched and not yet acked."""
    now_ms = now_ms or int(time.time() * 1000)
    ns, client = broker.namespace, broker.client
    workers = [
        w.decode() if isinstance(w, bytes) else w for w in client.zrange(f"{ns}:__heartbeats__", 0, -1)
    ]
    stats = []
    for queue in queues:
        pipe = client.pipeline()
        pipe.llen(f"{ns}:{queue}")
        pipe.llen(f"{ns}:{queue}.DQ")
        pipe.zcard(dead_letter_key(ns, queue))
        for worker in workers:
            pipe.scard(f"{ns}:__acks__.{worker}.{queue}")
            pipe.scard(f"{ns}:__acks__.{worker}.{queue}.DQ")
        ready, delayed, dead, *acked = pipe.execute()
        stats.append(
            QueueStats(
                queue,
                int(ready),
                int(delayed),
                int(sum(acked)),
                int(dead),
                _oldest_age(broker, f"{ns}:{queue}", now_ms),
            )
        )
    return stats
