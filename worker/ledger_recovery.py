"""Recovering dead letters the ledger could not record (Postgres was down) from the broker."""

from __future__ import annotations

import re

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from core.clock import utcnow
from core.rules.dead_letters import fingerprint, origin_frame
from db.queries import dead_letters
from worker.database import Database
from worker.failure_ledger import forget_redis_dead_letter, ledger_entry
from worker.queue_stats import dead_letter_key

_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')


def describe_traceback(text: str) -> dict[str, str]:
    """The same description as `describe_failure`, rebuilt from a stored traceback's text."""
    last = text.strip().splitlines()[-1] if text.strip() else "Unknown: no traceback kept"
    kind, _, message = last.partition(": ")
    origin = origin_frame(_FRAME.findall(text)) if text else "unknown"
    return {
        "exception_type": kind or "Unknown",
        "exception_message": message,
        "traceback": text,
        "origin": origin,
        "fingerprint": fingerprint(kind, origin),
    }


def sweep_dead_letters(broker: dramatiq.Broker, database: Database, queues: list[str]) -> int:
    """Move what Dramatiq's own dead-letter store holds into the ledger: how many were recorded."""
    if isinstance(broker, RedisBroker):
        return sweep_redis_dead_letters(broker, database, queues)
    from worker.rabbitmq_dead_letters import sweep_rabbitmq_dead_letters  # imports pika

    return sweep_rabbitmq_dead_letters(broker, database, queues)


def sweep_redis_dead_letters(broker: RedisBroker, database: Database, queues: list[str]) -> int:
    """Move dead letters the ledger could not record (Postgres was down) from Redis into the ledger."""
    client, moved = broker.client, 0
    for queue in queues:
        key = dead_letter_key(broker.namespace, queue)
        for redis_id, raw in client.hgetall(f"{key}.msgs").items():
            message = dramatiq.Message.decode(raw if isinstance(raw, bytes) else str(raw).encode())
            failure = describe_traceback(str(message.options.get("traceback") or ""))
            with database.transaction() as session:
                dead_letters.record(session, ledger_entry(message, failure, utcnow()))
            forget_redis_dead_letter(client, key, redis_id)
            moved += 1
    return moved
