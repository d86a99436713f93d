"""Webhooks job family (queue `webhooks`): apply stored payment events."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from services.payments import Payments
from worker.database import database, units_of_work


@dramatiq.actor(
    actor_name="webhooks.process",
    queue_name="webhooks",
    max_retries=8,
    min_backoff=1_000,
    max_backoff=10 * 60_000,
)
def apply_webhook_event(event_row_id: int) -> None:
    """Apply one stored webhook event in one transaction, then send the emails it decided
    (services/payments.py); a settled event is left alone, so redeliveries do nothing."""
    broker = apply_webhook_event.broker
    Payments(units_of_work(broker), database(broker).settings, utcnow).apply_webhook_event(event_row_id)
