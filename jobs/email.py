"""Email job family (queue `email`): deliver outbox rows through Resend."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from services.email import Emails
from worker.database import database, units_of_work


@dramatiq.actor(
    actor_name="email.send", queue_name="email", max_retries=10, min_backoff=2_000, max_backoff=15 * 60_000
)
def send_outbox_email(outbox_id: int) -> None:
    """Send one outbox email with its idempotency key (services/email.py); a sent row is never
    sent again, a 4xx fails the message for good, anything else is retried."""
    broker = send_outbox_email.broker
    Emails(units_of_work(broker), database(broker).settings, utcnow).send_outbox_email(outbox_id)
