"""Retention job family (queue `retention`): drop dead letters past DEAD_LETTER_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from core.clock import utcnow
from core.dead_letters import DeadLetters
from core.logging import get_logger
from db.queries.dead_letters import Filter
from worker.database import database

log = get_logger("backroom.jobs.retention")


@dramatiq.actor(actor_name="retention.dead_letters", queue_name="retention", max_retries=3)
def dead_letters() -> None:
    """Purge dead letters whose last failure is older than the retention period, with an audit row each.

    Bounded per run (the next daily run continues); idempotent.
    """
    db = database(dead_letters.broker)
    days = db.settings.dead_letter_retention_days
    where = Filter(until=utcnow() - timedelta(days=days))
    result = DeadLetters(db.engine, dead_letters.broker).purge_many(
        where, by="retention", reason=f"older than {days} days", limit=50_000
    )
    log.info("retention.dead_letters", purged=result["purged"], days=days)
