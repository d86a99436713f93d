"""Recurring jobs by name: the actor and queue each name runs.

The API, the CLI and the scheduler enqueue by name through this table, so
none of them imports actor modules (which must bind to a configured broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq

from worker.messages import send


@dataclass(frozen=True)
class Job:
    name: str
    actor_name: str
    queue: str
    description: str


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("stock-cleanup", "stock.cleanup_expired", "stock", "expire reservations past their expiry"),
    )
}


def enqueue(broker: dramatiq.Broker, name: str) -> dramatiq.Message[Any]:
    """Enqueue the named recurring job now; KeyError for an unknown name."""
    job = JOBS[name]
    return send(broker, job.actor_name, job.queue)
