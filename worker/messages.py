"""Sending messages by actor name, so senders never import actor modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq

from core.messages import Outgoing


def send(
    broker: dramatiq.Broker, actor_name: str, queue: str, *args: Any, **options: Any
) -> dramatiq.Message[Any]:
    """Enqueue one message; call only after the transaction that made it necessary committed."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options=options
    )
    return broker.enqueue(message)


@dataclass(frozen=True)
class BrokerSender:
    """The `Send` a unit of work uses: one message on the broker, its id returned."""

    broker: dramatiq.Broker

    def __call__(self, message: Outgoing) -> str:
        return send(self.broker, message.actor_name, message.queue, *message.args).message_id
