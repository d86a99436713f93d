"""Sending messages by actor name, so senders never import actor modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq

from core.catalog import EMAIL_ACTOR, JOBS, WEBHOOK_ACTOR
from core.messages import Outgoing


def send(
    broker: dramatiq.Broker, actor_name: str, queue: str, *args: Any, **options: Any
) -> dramatiq.Message[Any]:
    """Enqueue one message; call only after the transaction that made it necessary committed."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options=options
    )
    return broker.enqueue(message)


def enqueue(broker: dramatiq.Broker, name: str) -> dramatiq.Message[Any]:
    """Enqueue the named recurring job now; KeyError for an unknown name."""
    job = JOBS[name]
    return send(broker, job.actor_name, job.queue)


def send_webhook_message(broker: dramatiq.Broker, event_row_id: int) -> dramatiq.Message[Any]:
    return send(broker, *WEBHOOK_ACTOR, event_row_id)


def send_email_message(broker: dramatiq.Broker, outbox_id: int) -> dramatiq.Message[Any]:
    return send(broker, *EMAIL_ACTOR, outbox_id)


@dataclass(frozen=True)
class BrokerSender:
    """The `Send` a unit of work uses: one message on the broker, its id returned."""

    broker: dramatiq.Broker

    def __call__(self, message: Outgoing) -> str:
        whole: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=message.queue,
            actor_name=message.actor_name,
            args=message.args,
            kwargs=dict(message.kwargs),
            options=dict(message.options),
        )
        if message.message_id is not None:  # chosen before the send (recorded in its transaction)
            whole = whole.copy(message_id=message.message_id)
        return self.broker.enqueue(whole).message_id
