"""Failure ledger middleware: a message out of retries becomes a row in `dead_letter`."""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker

from core.clock import utcnow
from core.logging import get_logger
from core.rules.dead_letters import canonical_queue, fingerprint, origin_frame
from db.queries import dead_letters
from worker.database import Database
from worker.queue_stats import dead_letter_key

log = get_logger("backroom.worker.ledger")
# Not worth keeping with the entry: the traceback is stored in its own column.
DROPPED_OPTIONS = ("traceback", "redis_message_id")


def exception_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def describe_failure(error: BaseException | None) -> dict[str, str]:
    """Type, message, traceback and fingerprint of a failure (None: the message was too old to run)."""
    if error is None:
        kind, text, trace, origin = "AgeLimitExceeded", "the message exceeded its max_age", "", "age limit"
    else:
        kind, text = exception_name(error), str(error)
        trace = "".join(traceback.format_exception(error))
        origin = origin_frame(
            (frame.filename, frame.name) for frame in traceback.extract_tb(error.__traceback__)
        )
    return {
        "exception_type": kind,
        "exception_message": text,
        "traceback": trace,
        "origin": origin,
        "fingerprint": fingerprint(kind, origin),
    }


def ledger_entry(
    message: dramatiq.Message[Any] | MessageProxy, failure: dict[str, str], now: datetime
) -> dict[str, Any]:
    """The `dead_letter` row of a failed message, whatever found it (the worker, or the sweep of
    Redis's dead-letter sets): the message as it was, its attempts, and `failure` described."""
    first = message.options.get("first_failed_at")
    return {
        "message_id": message.message_id,
        "queue": canonical_queue(message.queue_name),
        "actor": message.actor_name,
        "args": list(message.args),
        "kwargs": dict(message.kwargs),
        "options": {k: v for k, v in message.options.items() if k not in DROPPED_OPTIONS},
        "attempts": max(1, int(message.options.get("retries", 0))),
        "first_failed_at": datetime.fromisoformat(first) if first else now,
        "last_failed_at": now,
        "replay_of": message.options.get("replay_of"),
        **failure,
    }


def forget_redis_dead_letter(client: redis.Redis, key: str, redis_id: Any) -> None:
    """Drop a message from Redis's dead-letter set `key` once the ledger holds it."""
    client.zrem(key, redis_id)
    client.hdel(f"{key}.msgs", redis_id)


class FailureLedger(dramatiq.Middleware):
    """Writes every failed message (retries exhausted, a PermanentError, an age limit) to Postgres.

    Once the row is committed the message is also removed from Redis's dead-letter set, so
    the ledger is the one place dead letters live. If Postgres cannot be written, the
    message stays in Redis's dead-letter set and the failure is logged: nothing is lost.
    Must come before RetryPolicy in the middleware list (after-hooks run in reverse).
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if message.failed:
            self._record(message, exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if message.failed:
            self._record(message, None)

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        # On RabbitMQ the nacked message goes to `<queue>.XQ`, where no message can be removed by
        # id: the reconciler drains it (worker/rabbitmq_dead_letters.py).
        if "dead_letter_id" not in message.options or not isinstance(broker, RedisBroker):
            return
        key = dead_letter_key(broker.namespace, message.queue_name)
        forget_redis_dead_letter(broker.client, key, message.options.get("redis_message_id"))

    def _record(self, message: MessageProxy, error: BaseException | None) -> None:
        entry = ledger_entry(message, describe_failure(error), utcnow())
        try:
            with self.database.transaction() as session:
                dead_letter_id = dead_letters.record(session, entry)
        except Exception as failure:
            log.error("ledger.write_failed", message_id=message.message_id, error=str(failure))
            return
        message.options["dead_letter_id"] = dead_letter_id
        log.error(
            "job.dead_lettered",
            dead_letter_id=dead_letter_id,
            fingerprint=entry["fingerprint"],
            error_type=entry["exception_type"],
            attempts=entry["attempts"],
        )
