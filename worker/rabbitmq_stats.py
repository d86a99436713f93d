"""Queue depth on RabbitMQ, from AMQP alone (no management API): ready, delayed and dead.

A passive declare answers a queue's count of *ready* messages (not those delivered and unacked)
and how many consumers it has, nothing more. So `in_flight` and `oldest_age_seconds` are None
here: counting unacked messages or reading the head message's age needs the management plugin's
HTTP API (or consuming the message, which would disturb it). `delayed` counts the delay queue's
ready messages; a running worker holds delayed messages it has fetched (unacked) until their
time, so with workers up it is a lower bound.
"""

from __future__ import annotations

from typing import Any

import pika.exceptions
from dramatiq.common import dq_name, xq_name

from worker.queue_stats import QueueStats


def fresh_channel(broker: Any) -> Any:
    """The thread's channel, on a connection opened again if the server dropped the old one (an
    idle BlockingConnection misses its heartbeats)."""
    try:
        if not broker.connection.is_open:  # closed by broker.close()
            raise pika.exceptions.ConnectionWrongStateError()
        broker.connection.process_data_events(time_limit=0)
    except pika.exceptions.AMQPError:
        del broker.connection
    return broker.channel


def message_count(broker: Any, queue: str) -> int:
    """Ready messages in the queue; 0 when the queue was never declared (nothing sent to it)."""
    try:
        return int(fresh_channel(broker).queue_declare(queue=queue, passive=True).method.message_count)
    except pika.exceptions.ChannelClosedByBroker as error:
        del broker.channel  # a 404 closes the channel: the next call opens another
        if error.reply_code == 404:
            return 0
        raise


def rabbitmq_queue_stats(broker: Any, queues: list[str]) -> list[QueueStats]:
    return [
        QueueStats(
            queue,
            ready=message_count(broker, queue),
            delayed=message_count(broker, dq_name(queue)),
            in_flight=None,
            dead_in_broker=message_count(broker, xq_name(queue)),
            oldest_age_seconds=None,
        )
        for queue in queues
    ]
