"""Reconcile job family (queue `reconcile`): re-enqueue intents stuck in their first state.

Redis may lose a message (a restart without persistence, an eviction, a send that
failed after commit); Postgres does not lose the intent. Re-sending is safe because
every handler is idempotent.
"""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from db.queries import outbox, webhooks
from jobs.catalog import queues, send_email_message, send_webhook_message
from worker.database import database
from worker.ledger_recovery import sweep_redis_dead_letters

log = get_logger("backroom.jobs.reconcile")
BATCH = 500


@dramatiq.actor(actor_name="reconcile.stuck_intents", queue_name="reconcile", max_retries=2)
def stuck_intents() -> None:
    """Webhook events still `received` and outbox rows still `pending` after RECONCILE_AFTER_SECONDS
    are sent again; dead letters the ledger could not record (Postgres was down) move from Redis
    into the ledger."""
    db = database(stuck_intents.broker)
    cutoff = utcnow() - timedelta(seconds=db.settings.reconcile_after_seconds)
    with db.transaction() as session:
        events = webhooks.received_before(session, cutoff, BATCH)
        emails = outbox.pending_before(session, cutoff, BATCH)
    for row_id in events:
        send_webhook_message(stuck_intents.broker, row_id)
    for outbox_id in emails:
        send_email_message(stuck_intents.broker, outbox_id)
    recovered = sweep_redis_dead_letters(stuck_intents.broker, db, queues())
    if events or emails or recovered:
        log.warning(
            "reconcile.requeued",
            webhook_events=len(events),
            emails=len(emails),
            dead_letters_recovered=recovered,
        )
