"""Draining Dramatiq's dead-letter queues on RabbitMQ (`<queue>.XQ`) into the failure ledger.

A message out of retries is recorded by the FailureLedger middleware first, then nacked, and
RabbitMQ dead-letters it into `<queue>.XQ`. A queue cannot drop one message by id (Redis's set
can, worker/failure_ledger.py after_nack), so the reconciler drains each XQ instead: a message the
ledger already holds (or held, until an operator purged it) is acknowledged away; one it never
held (Postgres was down when the job died) is recorded first, then acknowledged. A failure to
write leaves the message in the queue.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.common import xq_name
from dramatiq.errors import DecodeError

from core.clock import utcnow
from core.logging import get_logger
from db.queries import dead_letters
from worker.database import Database
from worker.failure_ledger import ledger_entry
from worker.ledger_recovery import describe_traceback
from worker.rabbitmq_stats import fresh_channel, message_count

log = get_logger("backroom.worker.ledger")


def sweep_rabbitmq_dead_letters(broker: Any, database: Database, queues: list[str]) -> int:
    """Empty each queue's XQ into the ledger: how many messages the ledger did not hold yet."""
    recorded = 0
    for queue in queues:
        waiting = message_count(broker, xq_name(queue))  # bound: a message put back is not seen twice
        channel = fresh_channel(broker)
        for _ in range(waiting):
            method, _properties, body = channel.basic_get(xq_name(queue), auto_ack=False)
            if method is None:
                break
            try:
                message = dramatiq.Message.decode(body)
            except DecodeError:
                # Not a Dramatiq message (nothing to record, no id to replay by): put back, it
                # would come first again and block every dead letter behind it. Logged, dropped.
                channel.basic_ack(method.delivery_tag)
                log.error("ledger.undecodable_dead_letter_dropped", queue=queue, size=len(body))
                continue
            try:
                with database.transaction() as session:
                    if not dead_letters.settled(session, message.message_id):
                        failure = describe_traceback(str(message.options.get("traceback") or ""))
                        dead_letters.record(session, ledger_entry(message, failure, utcnow()))
                        recorded += 1
            except Exception:
                channel.basic_nack(method.delivery_tag, requeue=True)
                raise
            channel.basic_ack(method.delivery_tag)
    return recorded
