"""Retention job family (queue `retention`): drop dead letters past DEAD_LETTER_RETENTION_DAYS."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from services.dead_letter_batches import DeadLetterBatches
from services.dead_letters import DeadLetters
from worker.database import database, units_of_work

log = get_logger("backroom.jobs.retention")


@dramatiq.actor(actor_name="retention.dead_letters", queue_name="retention", max_retries=3)
def purge_old_dead_letters() -> None:
    """Purge dead letters whose last failure is older than the retention period, with an audit row each.

    Bounded per run (the next daily run continues); idempotent.
    """
    broker = purge_old_dead_letters.broker
    days = database(broker).settings.dead_letter_retention_days
    batches = DeadLetterBatches(DeadLetters(units_of_work(broker)), utcnow)
    log.info("retention.dead_letters", purged=batches.purge_past_retention(days), days=days)
