"""Stock job family (queue `stock`): garbage-collect expired reservations."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from services.reservations import Reservations
from worker.database import database, units_of_work

log = get_logger("backroom.jobs.stock")


@dramatiq.actor(actor_name="stock.cleanup_expired", queue_name="stock", max_retries=3, time_limit=120_000)
def expire_reservations() -> None:
    """Expire active reservations past their expiry, in bounded batches (services.reservations);
    a run that reaches its bound sends this job again, so a backlog drains run after run.

    Idempotent; safe to run twice (two runs share the work: SKIP LOCKED).
    """
    broker = expire_reservations.broker
    reservations = Reservations(units_of_work(broker), database(broker).settings, utcnow)
    log.info("stock.cleanup_expired", expired=reservations.expire_reservations())
