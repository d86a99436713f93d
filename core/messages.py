"""A message to a worker, by actor name: what services decide to send and the worker layer sends.

Senders never import actor modules (they bind to a configured broker); the name and the
queue are enough to enqueue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    actor_name: str
    queue: str
    args: tuple[Any, ...] = ()


# Sends one message and returns its id (worker.messages.BrokerSender on a Dramatiq broker).
Send = Callable[[Outgoing], str]
