"""Reconcile job family (queue `reconcile`): re-enqueue intents stuck in their first state.

Redis may lose a message (a restart without persistence, an eviction, a send that
failed after commit); Postgres does not lose the intent. Re-sending is safe because
every handler is idempotent, but it must stay bounded: an intent is sent again only
when no message for it can still be alive (docs/decisions.md, "Reconciler bound").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import TimeLimit

from core.catalog import EMAIL_ACTOR, WEBHOOK_ACTOR, queues
from core.clock import utcnow
from core.logging import get_logger
from core.rules.retry_span import RetryOptions, resend_after, retry_span
from db.queries import outbox, webhooks
from db.queries import stuck_intents as stuck
from worker.database import Database, database
from worker.ledger_recovery import sweep_redis_dead_letters
from worker.messages import send_email_message, send_webhook_message
from worker.retry_policy import RetryPolicy

log = get_logger("backroom.jobs.reconcile")
BATCH = 500


def actor_retry_options(broker: dramatiq.Broker, actor_name: str) -> RetryOptions:
    """The retry options the worker applies to `actor_name`: JOB_* settings over the actor's own
    options over the policy's defaults, as RetryPolicy and Dramatiq's Retries decide them."""
    actor = broker.get_actor(actor_name)
    policy = next(m for m in broker.middleware if isinstance(m, RetryPolicy))
    limit = next((m.time_limit for m in broker.middleware if isinstance(m, TimeLimit)), 600_000)

    def option(name: str, default: Any) -> int:
        return int(policy.forced.get(name, actor.options.get(name, default)))

    return RetryOptions(
        max_retries=option("max_retries", policy.max_retries),
        min_backoff_ms=option("min_backoff", policy.min_backoff),
        max_backoff_ms=option("max_backoff", policy.max_backoff),
        time_limit_ms=int(actor.options.get("time_limit", limit)),
    )


def _resend(
    broker: dramatiq.Broker,
    db: Database,
    intent: stuck.Intent,
    actor_name: str,
    send: Callable[[dramatiq.Broker, int], Any],
) -> int:
    """Claim the due intents of one kind, then send them after commit; unsent claims are released."""
    wait = resend_after(
        retry_span(actor_retry_options(broker, actor_name)),
        timedelta(seconds=db.settings.reconcile_after_seconds),
    )
    with db.transaction() as session:
        ids = stuck.claim(
            session,
            intent,
            actor=actor_name,
            now=utcnow(),
            resend_after=wait,
            limit=BATCH,
            grace=timedelta(seconds=db.settings.reconcile_after_seconds),
        )
    for done, row_id in enumerate(ids):
        try:
            send(broker, row_id)
        except Exception:
            with db.transaction() as session:
                stuck.release(session, intent, ids[done:])
            raise
    return len(ids)


@dramatiq.actor(actor_name="reconcile.stuck_intents", queue_name="reconcile", max_retries=2)
def stuck_intents() -> None:
    """Webhook events still `received` and outbox rows still `pending` whose every message is over
    (the actor's whole retry span has passed since the last send, plus RECONCILE_AFTER_SECONDS, and
    no dead letter waits for a replay) are sent again; dead letters the ledger could not record
    (Postgres was down) move from Redis into the ledger."""
    broker = stuck_intents.broker
    db = database(broker)
    # Dead letters Postgres could not record go into the ledger first, so their intents are not
    # taken for lost messages below.
    recovered = sweep_redis_dead_letters(broker, db, queues())
    events = _resend(broker, db, webhooks.STUCK, WEBHOOK_ACTOR[0], send_webhook_message)
    emails = _resend(broker, db, outbox.STUCK, EMAIL_ACTOR[0], send_email_message)
    if events or emails or recovered:
        log.warning(
            "reconcile.requeued",
            webhook_events=events,
            emails=emails,
            dead_letters_recovered=recovered,
        )
