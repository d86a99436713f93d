"""Abandoned-cart job family (queue `carts`): remind customers of the carts they left."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.logging import get_logger
from services.carts import Carts
from worker.database import database, units_of_work

log = get_logger("backroom.jobs.carts")


@dramatiq.actor(actor_name="carts.send_reminders", queue_name="carts", max_retries=3, time_limit=300_000)
def send_abandoned_cart_emails() -> None:
    """Queue each due cart's next reminder step once and send it (services.carts).

    Idempotent and safe to run late or twice at once (due carts are locked, SKIP LOCKED).
    """
    broker = send_abandoned_cart_emails.broker
    carts = Carts(units_of_work(broker), database(broker).settings, utcnow)
    log.info("carts.send_reminders", emails=carts.send_abandoned_cart_emails())
