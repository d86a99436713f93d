"""Sending messages by actor name, so senders never import actor modules."""

from __future__ import annotations

from typing import Any

import dramatiq


def send(
    broker: dramatiq.Broker, actor_name: str, queue: str, *args: Any, **options: Any
) -> dramatiq.Message[Any]:
    """Enqueue one message; call only after the transaction that made it necessary committed."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options=options
    )
    return broker.enqueue(message)
