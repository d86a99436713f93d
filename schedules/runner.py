"""The scheduler process: APScheduler triggers, a Postgres claim per slot, then an enqueue."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from datetime import datetime

import dramatiq
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from core.clock import utcnow
from core.logging import announce, configure_logging, get_logger
from core.schedule_table import Schedule, schedule_table
from core.settings import Settings, load_settings
from db.engine import make_engine, transaction
from db.queries.schedules import claim_slot, record_message
from worker.broker import build_broker
from worker.messages import enqueue

log = get_logger("backroom.scheduler")
IDENTITY = f"{socket.gethostname()}:{os.getpid()}"


def fire(engine: Engine, broker: dramatiq.Broker, schedule: Schedule, now: datetime) -> str | None:
    """Enqueue the job for the slot `now` falls in, unless some scheduler already did.

    The claim commits before the message is sent; the run's message id is then
    recorded, so a run without one shows a send that failed after the claim.
    """
    slot = schedule.slot(now)
    with transaction(engine) as session:
        run_id = claim_slot(session, schedule.job, slot, IDENTITY)
    if run_id is None:
        log.info("schedule.slot_taken", job=schedule.job, slot=slot.isoformat())
        return None
    message = enqueue(broker, schedule.job)
    with transaction(engine) as session:
        record_message(session, run_id, message.message_id)
    log.info("schedule.fired", job=schedule.job, slot=slot.isoformat(), message_id=message.message_id)
    return message.message_id


def build_scheduler(settings: Settings, engine: Engine, broker: dramatiq.Broker) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    for schedule in schedule_table(settings):
        scheduler.add_job(
            lambda s=schedule: fire(engine, broker, s, utcnow()),
            IntervalTrigger(seconds=schedule.every_seconds, start_date=schedule.anchor(), timezone="UTC"),
            id=schedule.job,
            name=schedule.job,
            # A late tick (process paused, restarted) still fires once for its slot.
            misfire_grace_time=schedule.every_seconds,
            coalesce=True,
            max_instances=1,
        )
    return scheduler


def main() -> None:
    """`python -m schedules`: runs until SIGINT/SIGTERM."""
    settings = load_settings()
    configure_logging(settings)
    announce(settings, "scheduler")
    engine = make_engine(settings)
    broker = build_broker(settings)
    scheduler = build_scheduler(settings, engine, broker)
    log.info("scheduler.start", jobs=[job.id for job in scheduler.get_jobs()], identity=IDENTITY)
    catch_up(engine, broker, settings)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    log.info("scheduler.stop")


def catch_up(engine: Engine, broker: dramatiq.Broker, settings: Settings) -> None:
    """Fire the current slot of every job that no scheduler fired yet.

    A restart or a deploy that straddles a tick would otherwise skip it; the
    slot claim keeps this from firing a slot twice.
    """
    now = utcnow()
    for schedule in schedule_table(settings):
        fire(engine, broker, schedule, now)
