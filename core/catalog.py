"""Every job backroom runs, by name: the actor and queue each name means. Pure values, no IO.

The API, the CLI, the scheduler and the services send by these names, so none of them imports
an actor module (actors bind to a configured broker; only the worker's entry point loads them).
Actor names are what messages and dead letters carry: they stay stable when code moves.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    actor_name: str
    queue: str
    description: str


# Recurring jobs: triggered by the scheduler, `POST /v1/jobs/{name}/run` or `backroom jobs run`.
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
            "retention",
            "retention.archive",
            "retention",
            "archive finished rows past retention to S3, then delete them",
        ),
        # The purge-only job's old name, an alias now: triggers that name it run the archive.
        Job(
            "dead-letter-retention",
            "retention.archive",
            "retention",
            "alias of retention (archive, then delete, dead letters included)",
        ),
        Job(
            "low-stock-alerts",
            "alerts.low_stock",
            "alerts",
            "one digest of products newly at or below their low-stock threshold (email, Slack)",
        ),
        Job(
            "premium-renewals",
            "subscriptions.renew_due",
            "subscriptions",
            "charge each due subscription's next period once; dunning on a decline (RENEWAL_RETRY_SCHEDULE)",
        ),
        Job(
            "renewal-reminders",
            "subscriptions.send_reminders",
            "subscriptions",
            "one reminder a period, RENEWAL_REMINDER_DAYS before it ends",
        ),
        Job(
            "abandoned-carts",
            "carts.send_reminders",
            "carts",
            "email the next reminder step of carts left idle (ABANDONED_CART_STEPS)",
        ),
    )
}

# On-demand actors, sent by id after the transaction that made them necessary commits.
WEBHOOK_ACTOR = ("webhooks.process", "webhooks")
EMAIL_ACTOR = ("email.send", "email")
SLACK_ACTOR = ("alerts.slack", "alerts")
RENEWAL_ACTOR = ("subscriptions.renew", "subscriptions")  # one subscription's due renewal


def queues() -> list[str]:
    """Every queue a worker may consume, recurring or on demand."""
    return sorted(
        {job.queue for job in JOBS.values()}
        | {WEBHOOK_ACTOR[1], EMAIL_ACTOR[1], SLACK_ACTOR[1], RENEWAL_ACTOR[1]}
    )
