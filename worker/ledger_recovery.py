"""Recovering dead letters the ledger could not record (Postgres was down) from Redis."""

from __future__ import annotations

import re
from datetime import datetime

import dramatiq

from core.clock import utcnow
from core.rules.dead_letters import fingerprint, origin_frame
from db.queries import dead_letters
from worker.database import Database
from worker.failure_ledger import DROPPED_OPTIONS

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


def sweep_redis_dead_letters(broker: dramatiq.Broker, database: Database, queues: list[str]) -> int:
    """Move dead letters the ledger could not record (Postgres was down) from Redis into the ledger."""
    if not hasattr(broker, "client"):
        return 0
    client, moved = broker.client, 0
    for queue in queues:
        xqueue = f"{broker.namespace}:{queue}.XQ"  # type: ignore[attr-defined]
        for redis_id, raw in client.hgetall(f"{xqueue}.msgs").items():
            message = dramatiq.Message.decode(raw)
            options = dict(message.options)
            first = options.get("first_failed_at")
            entry = {
                "message_id": message.message_id,
                "queue": queue,
                "actor": message.actor_name,
                "args": list(message.args),
                "kwargs": dict(message.kwargs),
                "options": {k: v for k, v in options.items() if k not in DROPPED_OPTIONS},
                "attempts": max(1, int(options.get("retries", 0))),
                "first_failed_at": datetime.fromisoformat(first) if first else utcnow(),
                "last_failed_at": utcnow(),
                "replay_of": options.get("replay_of"),
                **describe_traceback(str(options.get("traceback") or "")),
            }
            with database.transaction() as session:
                dead_letters.record(session, entry)
            client.zrem(xqueue, redis_id)
            client.hdel(f"{xqueue}.msgs", redis_id)
            moved += 1
    return moved
