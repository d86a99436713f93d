"""The scheduler process: an APScheduler loop that ticks every few seconds; each tick asks the
schedules service which slots are due and fires them. It only enqueues; jobs run in workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.clock import utcnow
from core.error_reporting import configure_error_reporting
from core.logging import announce, configure_logging, get_logger
from core.schedule_table import schedule_table
from core.settings import Settings, load_settings
from db.engine import make_engine
from db.unit_of_work import UnitsOfWork
from services.schedules import Schedules
from worker.broker import build_broker
from worker.messages import BrokerSender

log = get_logger("backroom.scheduler")
IDENTITY = f"{socket.gethostname()}:{os.getpid()}"
# How often due slots are looked for: a slot fires within this of its time.
TICK_SECONDS = 5


def build_schedules(settings: Settings) -> Schedules:
    """The scheduler's composition root: its engine, broker and schedule table."""
    units = UnitsOfWork(make_engine(settings), BrokerSender(build_broker(settings)))
    return Schedules(units, settings, utcnow, schedule_table(settings), IDENTITY)


def tick(schedules: Schedules) -> None:
    """One tick; a failure (PostgreSQL down) is logged and the next tick tries again."""
    try:
        schedules.tick()
    except Exception as error:
        log.error("scheduler.tick_failed", error=type(error).__name__)


def build_scheduler(schedules: Schedules) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=TICK_SECONDS, timezone="UTC"),
        args=[schedules],
        id="tick",
        name="tick",
        coalesce=True,  # ticks missed while the process was paused are one tick: slots decide
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler


def main() -> None:
    """`python -m schedules`: runs until SIGINT/SIGTERM. Fires what is due at once on start,
    by each job's misfire policy, then every TICK_SECONDS."""
    settings = load_settings()
    configure_logging(settings)
    announce(settings, "scheduler")
    configure_error_reporting(settings, "scheduler")
    schedules = build_schedules(settings)
    scheduler = build_scheduler(schedules)
    log.info(
        "scheduler.start",
        jobs={s.job: s.trigger.describe() for s in schedules.table},
        identity=IDENTITY,
    )
    tick(schedules)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    log.info("scheduler.stop")
