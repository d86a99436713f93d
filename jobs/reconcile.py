"""Reconcile job family (queue `reconcile`): re-enqueue intents stuck in their first state, send
scheduled runs claimed but never sent, check for overdue recurring jobs (services/reconcile.py)."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from core.catalog import EMAIL_ACTOR, WEBHOOK_ACTOR, queues
from core.clock import utcnow
from core.logging import get_logger
from core.schedule_table import schedule_table
from services.reconcile import Reconciler
from worker.database import database, units_of_work
from worker.ledger_recovery import sweep_dead_letters
from worker.retry_policy import retry_spans

log = get_logger("backroom.jobs.reconcile")


@dramatiq.actor(actor_name="reconcile.stuck_intents", queue_name="reconcile", max_retries=2)
def reconcile_stuck_intents() -> None:
    """Send again the intents whose every message is over; recover dead letters left in the broker;
    send scheduled runs never sent; alert on overdue recurring jobs (even with no scheduler)."""
    broker = reconcile_stuck_intents.broker
    db = database(broker)
    reconciler = Reconciler(
        units_of_work(broker),
        utcnow,
        timedelta(seconds=db.settings.reconcile_after_seconds),
        retry_spans(broker, [WEBHOOK_ACTOR[0], EMAIL_ACTOR[0]]),
        lambda: sweep_dead_letters(broker, db, queues()),
        db.settings,
        schedule_table(db.settings),
    )
    done = reconciler.reconcile_stuck_intents()
    if any(done.values()):
        log.warning("reconcile.requeued", **done)
