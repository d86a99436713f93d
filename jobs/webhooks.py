"""Webhooks job family (queue `webhooks`): apply stored payment events."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from db.queries import outbox
from db.queries.stuck_intents import mark_unsent
from jobs.payment_effects import process_event
from worker.database import database
from worker.messages import send_email_message

log = get_logger("backroom.jobs.webhooks")


@dramatiq.actor(
    actor_name="webhooks.process",
    queue_name="webhooks",
    max_retries=8,
    min_backoff=1_000,
    max_backoff=10 * 60_000,
)
def process(event_row_id: int) -> None:
    """Apply one stored webhook event in one transaction, then send the emails it decided.

    Idempotent: the event row is locked and only a `received` event is applied, so a
    redelivered message (or the reconciler's) finds it settled and does nothing.
    """
    db = database(process.broker)
    with db.transaction() as session:
        emails = process_event(session, event_row_id, now=utcnow(), settings=db.settings)
    for done, outbox_id in enumerate(emails):  # after commit: the rows exist for the email worker
        try:
            send_email_message(process.broker, outbox_id)
        except Exception:
            # The event is settled, so a retry of this message would not send them: the
            # reconciler will, after its grace.
            with db.transaction() as session:
                mark_unsent(session, outbox.STUCK, emails[done:])
            raise
    log.info("webhooks.processed", event_row_id=event_row_id, emails=len(emails))
