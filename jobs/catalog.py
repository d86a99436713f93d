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
        Job(
            "reconcile",
            "reconcile.stuck_intents",
            "reconcile",
            "re-enqueue intents stuck in their first state",
        ),
        Job(
            "dead-letter-retention",
            "retention.dead_letters",
            "retention",
            "purge dead letters past retention",
        ),
    )
}


def enqueue(broker: dramatiq.Broker, name: str) -> dramatiq.Message[Any]:
    """Enqueue the named recurring job now; KeyError for an unknown name."""
    job = JOBS[name]
    return send(broker, job.actor_name, job.queue)


# On-demand actors, sent by id after the transaction that made them necessary commits.
WEBHOOK_ACTOR = ("webhooks.process", "webhooks")
EMAIL_ACTOR = ("email.send", "email")


def send_webhook_message(broker: dramatiq.Broker, event_row_id: int) -> dramatiq.Message[Any]:
    return send(broker, *WEBHOOK_ACTOR, event_row_id)


def send_email_message(broker: dramatiq.Broker, outbox_id: int) -> dramatiq.Message[Any]:
    return send(broker, *EMAIL_ACTOR, outbox_id)


def queues() -> list[str]:
    """Every queue a worker may consume, recurring or on demand."""
    return sorted({job.queue for job in JOBS.values()} | {WEBHOOK_ACTOR[1], EMAIL_ACTOR[1]})
