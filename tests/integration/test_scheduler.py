"""The scheduler's tick on real PostgreSQL and Redis: two schedulers racing tick by tick fire
every slot once; the process has one tick job."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.rules.schedules import ScheduledJob, Trigger
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from schedules.runner import TICK_SECONDS, build_scheduler
from services.schedules import Schedules
from tests.conftest import make_settings
from worker.broker import build_broker
from worker.messages import BrokerSender

BASE = datetime(2002, 1, 1, 6, tzinfo=UTC)


def test_two_schedulers_racing_fire_each_slot_once(settings, engine):
    shared = make_settings(settings.database_url, settings.redis_url)
    brokers = [build_broker(shared), build_broker(shared)]  # two scheduler processes, one Redis
    table = [ScheduledJob("reconcile", Trigger("1m"))]
    with transaction(engine) as session:
        session.execute(text("DELETE FROM schedule_run WHERE job_name = 'reconcile'"))
    barrier = threading.Barrier(2)

    def run(broker, identity):
        minute = {"now": BASE}
        schedules = Schedules(
            UnitsOfWork(engine, BrokerSender(broker)), shared, lambda: minute["now"], table, identity
        )
        barrier.wait()
        for step in range(20):
            minute["now"] = BASE + timedelta(minutes=step, seconds=3)
            schedules.tick()

    threads = [threading.Thread(target=run, args=(b, f"s{i}")) for i, b in enumerate(brokers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queued = brokers[0].client.llen(f"{brokers[0].namespace}:reconcile")
    with transaction(engine) as session:
        slots = session.execute(
            text(
                "SELECT scheduled_for, state FROM schedule_run WHERE job_name = 'reconcile' "
                "AND scheduled_for >= :a ORDER BY scheduled_for"
            ),
            {"a": BASE},
        ).all()
    assert [s.scheduled_for for s in slots] == [BASE + timedelta(minutes=m) for m in range(20)]
    assert {s.state for s in slots} == {"sent"} and queued == 20


def test_the_process_ticks_every_few_seconds(settings, engine):
    units = UnitsOfWork(engine, BrokerSender(build_broker(settings)))
    scheduler = build_scheduler(Schedules(units, settings, lambda: BASE, [], "s"))
    (job,) = scheduler.get_jobs()
    assert job.id == "tick" and job.trigger.interval.total_seconds() == TICK_SECONDS
