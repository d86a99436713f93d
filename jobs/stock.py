"""Stock job family (queue `stock`): garbage-collect expired reservations."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from db.queries.stock import expire_batch
from worker.database import database

log = get_logger("backroom.jobs.stock")

# Bounded work per run: the next scheduled run picks up whatever is left.
MAX_BATCHES_PER_RUN = 50


@dramatiq.actor(actor_name="stock.cleanup_expired", queue_name="stock", max_retries=3, time_limit=120_000)
def cleanup_expired() -> None:
    """Mark active reservations past their expiry as expired, one bounded batch a transaction.

    Garbage collection only: availability already ignores expired holds, so a
    late run neither oversells nor blocks a sale. Idempotent; safe to run twice.
    """
    db = database(cleanup_expired.broker)
    batch_size = db.settings.stock_cleanup_batch_size
    total = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        with db.transaction() as session:
            expired = expire_batch(session, utcnow(), batch_size)
        total += expired
        if expired < batch_size:
            break
    log.info("stock.cleanup_expired", expired=total)
