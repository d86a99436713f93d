"""A message to a worker, by actor name: what services decide to send and the worker layer sends.

Senders never import actor modules (they bind to a configured broker); the name and the
queue are enough to enqueue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    actor_name: str
    queue: str
    args: tuple[Any, ...] = ()
    # Kwargs and options of a message re-sent as it was (a dead letter's replay), or options of a
    # new one (the schedule run a job fires); an id chosen before the send so the transaction
    # can record it.
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None


# Sends one message and returns its id (worker.messages.BrokerSender on a Dramatiq broker).
Send = Callable[[Outgoing], str]
